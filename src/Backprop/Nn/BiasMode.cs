namespace Backprop.Nn;

/// <summary>How a layer's bias is shaped.</summary>
public enum BiasMode
{
    /// <summary>One bias per unit (what most libraries do).</summary>
    PerUnit,
    /// <summary>ONE scalar shared by every unit of the layer, as in the seed (b1, b2); its gradient sums every unit's term.</summary>
    Shared,
    /// <summary>No bias.</summary>
    None,
}

/// <summary>The order in which gradient descent updates the layers.</summary>
public enum UpdateOrder
{
    /// <summary>Every gradient from the forward pass's weights, then all updates: real backpropagation (the default).</summary>
    Simultaneous,
    /// <summary>
    /// Update the last layer first, then back-propagate through the already-updated weights, layer by layer,
    /// as the seed's text does (W11 is updated in eq. 15 before V11's gradient uses it in eq. 35).
    /// </summary>
    Sequential,
}
