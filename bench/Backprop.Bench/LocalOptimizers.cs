using Backprop.Nn;

namespace Backprop.Bench;

// LOCAL STAND-INS, bench only: the library's optimizers (Training/) are written on another branch.
// These follow torch.optim's update rules (Adam with bias correction, eps outside the sqrt; SGD momentum
// v = mu v + g, w -= lr v) so W3/W4 do the same arithmetic as the peer. Replace with the library's
// Adam/SgdMomentum once they are merged.

/// <summary>Adam (Kingma and Ba 2015) over every layer's weights and biases.</summary>
internal sealed class LocalAdam
{
    private readonly Network<float> _net;
    private readonly float[][] _m, _v;
    private readonly float _lr, _beta1 = 0.9f, _beta2 = 0.999f, _eps = 1e-8f;
    private int _t;

    public LocalAdam(Network<float> net, float lr)
    {
        _net = net;
        _lr = lr;
        int count = net.Layers.Count * 2;
        _m = new float[count][];
        _v = new float[count][];
        for (int l = 0; l < net.Layers.Count; l++)
        {
            _m[2 * l] = new float[net.Layers[l].Weights.Length];
            _v[2 * l] = new float[net.Layers[l].Weights.Length];
            _m[2 * l + 1] = new float[net.Layers[l].Biases.Length];
            _v[2 * l + 1] = new float[net.Layers[l].Biases.Length];
        }
    }

    public void Step()
    {
        _t++;
        float c1 = 1 - MathF.Pow(_beta1, _t), c2 = 1 - MathF.Pow(_beta2, _t);
        float stepSize = _lr / c1, sqrtC2 = MathF.Sqrt(c2);
        for (int l = 0; l < _net.Layers.Count; l++)
        {
            var layer = _net.Layers[l];
            Update(layer.Weights, layer.WeightGradients, _m[2 * l], _v[2 * l], stepSize, sqrtC2);
            Update(layer.Biases, layer.BiasGradients, _m[2 * l + 1], _v[2 * l + 1], stepSize, sqrtC2);
        }
    }

    private void Update(Span<float> w, ReadOnlySpan<float> g, float[] m, float[] v, float stepSize, float sqrtC2)
    {
        for (int i = 0; i < w.Length; i++)
        {
            m[i] = _beta1 * m[i] + (1 - _beta1) * g[i];
            v[i] = _beta2 * v[i] + (1 - _beta2) * g[i] * g[i];
            w[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) / sqrtC2 + _eps);
        }
    }
}

/// <summary>SGD with momentum as torch.optim.SGD: v = mu v + g; w -= lr v.</summary>
internal sealed class LocalMomentum
{
    private readonly Network<float> _net;
    private readonly float[][] _v;
    private readonly float _lr, _mu;

    public LocalMomentum(Network<float> net, float lr, float momentum)
    {
        _net = net;
        _lr = lr;
        _mu = momentum;
        _v = new float[net.Layers.Count * 2][];
        for (int l = 0; l < net.Layers.Count; l++)
        {
            _v[2 * l] = new float[net.Layers[l].Weights.Length];
            _v[2 * l + 1] = new float[net.Layers[l].Biases.Length];
        }
    }

    public void Step()
    {
        for (int l = 0; l < _net.Layers.Count; l++)
        {
            var layer = _net.Layers[l];
            Update(layer.Weights, layer.WeightGradients, _v[2 * l]);
            Update(layer.Biases, layer.BiasGradients, _v[2 * l + 1]);
        }
    }

    private void Update(Span<float> w, ReadOnlySpan<float> g, float[] v)
    {
        for (int i = 0; i < w.Length; i++)
        {
            v[i] = _mu * v[i] + g[i];
            w[i] -= _lr * v[i];
        }
    }
}
