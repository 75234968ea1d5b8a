namespace Backprop.Explain;

/// <summary>
/// A small expression tree for the equations of a derivation. It is data, not prose: renderers print it
/// either with symbols (<c>V11 * X1</c>) or with the numbers substituted (<c>0.15 * 0.05</c>), in plain text
/// or in the seed's LaTeX. Parentheses are explicit (<see cref="Group"/>) so a printed form matches the
/// document's own spelling instead of a precedence rule.
/// </summary>
public abstract record Expr
{
    /// <summary>The value of the expression, with every <see cref="Quantity"/> at its value.</summary>
    public abstract double Evaluate();

    /// <summary><paramref name="a"/> + <paramref name="b"/>, as written.</summary>
    public static Expr operator +(Expr a, Expr b) => new Binary(BinaryOperator.Add, a, b);

    /// <summary><paramref name="a"/> - <paramref name="b"/>, as written.</summary>
    public static Expr operator -(Expr a, Expr b) => new Binary(BinaryOperator.Subtract, a, b);

    /// <summary><paramref name="a"/> * <paramref name="b"/>, as written.</summary>
    public static Expr operator *(Expr a, Expr b) => new Binary(BinaryOperator.Multiply, a, b);

    /// <summary>-<paramref name="a"/>.</summary>
    public static Expr operator -(Expr a) => new Negate(a);

    /// <summary>A literal number of the formula.</summary>
    public static implicit operator Expr(double value) => new Constant(value);
}

/// <summary>A named quantity with its value: <c>V11</c>, <c>P1</c>, <c>E_total</c>, <c>∂E_total/∂O1</c>.</summary>
/// <param name="Plain">The name in plain text.</param>
/// <param name="Latex">The name in LaTeX.</param>
/// <param name="Value">Its value, printed when the expression is shown with numbers.</param>
public sealed record Quantity(string Plain, string Latex, double Value) : Expr
{
    /// <summary>A quantity whose plain and LaTeX names are the same (the seed writes <c>V11</c> in both).</summary>
    public Quantity(string name, double value) : this(name, name, value) { }

    /// <inheritdoc/>
    public override double Evaluate() => Value;
}

/// <summary>A literal number of the formula itself (the 1 of <c>1 - O1</c>), printed the same in both forms.</summary>
public sealed record Constant(double Value) : Expr
{
    /// <inheritdoc/>
    public override double Evaluate() => Value;
}

/// <summary>The binary operators of the seed's equations.</summary>
public enum BinaryOperator
{
    /// <summary>a + b.</summary>
    Add,
    /// <summary>a - b.</summary>
    Subtract,
    /// <summary>a * b, with the operator sign.</summary>
    Multiply,
    /// <summary>A product written by juxtaposition, as the seed's <c>f(x)(1 - f(x))</c> and <c>\frac{1}{2} ((Y1 - O1)^2 ...)</c>.</summary>
    Juxtapose,
}

/// <summary><c>Left op Right</c>, printed without parentheses (add a <see cref="Group"/> where the document has them).</summary>
public sealed record Binary(BinaryOperator Operator, Expr Left, Expr Right) : Expr
{
    /// <inheritdoc/>
    public override double Evaluate() => Operator switch
    {
        BinaryOperator.Add => Left.Evaluate() + Right.Evaluate(),
        BinaryOperator.Subtract => Left.Evaluate() - Right.Evaluate(),
        _ => Left.Evaluate() * Right.Evaluate(),
    };
}

/// <summary><c>-Operand</c>.</summary>
public sealed record Negate(Expr Operand) : Expr
{
    /// <inheritdoc/>
    public override double Evaluate() => -Operand.Evaluate();
}

/// <summary>Parentheses around <see cref="Inner"/>.</summary>
public sealed record Group(Expr Inner) : Expr
{
    /// <inheritdoc/>
    public override double Evaluate() => Inner.Evaluate();
}

/// <summary><c>Numerator / Denominator</c> (<c>\frac</c> in LaTeX).</summary>
public sealed record Fraction(Expr Numerator, Expr Denominator) : Expr
{
    /// <inheritdoc/>
    public override double Evaluate() => Numerator.Evaluate() / Denominator.Evaluate();
}

/// <summary><c>Base^Exponent</c>.</summary>
public sealed record Power(Expr Base, int Exponent) : Expr
{
    /// <inheritdoc/>
    public override double Evaluate() => Math.Pow(Base.Evaluate(), Exponent);
}

/// <summary><c>e^Exponent</c>.</summary>
public sealed record Exponential(Expr Exponent) : Expr
{
    /// <inheritdoc/>
    public override double Evaluate() => Math.Exp(Exponent.Evaluate());
}

/// <summary>A named function applied to an argument: <c>sigmoid(H1)</c>, <c>f(Q1)</c>. Only sigmoid-like names evaluate.</summary>
/// <param name="Function">Plain name (<c>sigmoid</c>, <c>f</c>).</param>
/// <param name="LatexFunction">LaTeX name (<c>\text{sigmoid}</c>, <c>f</c>).</param>
/// <param name="Argument">What it is applied to.</param>
/// <param name="Evaluator">How it evaluates, or null when it is only shown symbolically.</param>
public sealed record Apply(string Function, string LatexFunction, Expr Argument, Func<double, double>? Evaluator) : Expr
{
    /// <inheritdoc/>
    public override double Evaluate() =>
        Evaluator is null ? throw new InvalidOperationException($"{Function}(...) has no numeric form.") : Evaluator(Argument.Evaluate());
}

/// <summary>
/// A partial derivative written as a fraction of differentials: <c>∂Of/∂Wrt</c>. <see cref="Of"/> may be a
/// whole expression (eq. 14: <c>∂(W11 * P1 + ...)/∂W11</c>). <see cref="Value"/> is what the quantity equals
/// at the current point when it has been computed, so it can be substituted.
/// </summary>
/// <param name="Of">What is differentiated.</param>
/// <param name="Wrt">With respect to what.</param>
/// <param name="Value">Its value at the current point, when computed.</param>
/// <param name="BareDenominator">True prints the denominator without ∂, reproducing the typo of eq. (28).</param>
public sealed record Derivative(Expr Of, Expr Wrt, double? Value, bool BareDenominator = false) : Expr
{
    /// <inheritdoc/>
    public override double Evaluate() =>
        Value ?? throw new InvalidOperationException("This derivative has no value; it is only shown symbolically.");
}

/// <summary>A notation with no single value (<c>x</c>, <c>\sum</c>): printed the same with or without numbers.</summary>
public sealed record Symbol(string Plain, string Latex) : Expr
{
    /// <summary>A symbol written the same in plain text and LaTeX.</summary>
    public Symbol(string name) : this(name, name) { }

    /// <inheritdoc/>
    public override double Evaluate() => throw new InvalidOperationException($"'{Plain}' has no value.");
}
