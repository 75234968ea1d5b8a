using Backprop.Explain;
using Backprop.Explain.Rendering;

namespace Backprop.Tests.Explain;

public sealed class ExprFormatterTests
{
    private static readonly Quantity A = new("a", 2.5);
    private static readonly Quantity B = new("b", -0.25);

    [Fact]
    public void NegativeNumbersAreBracketedUnlessTheyLeadATerm()
    {
        Expr e = A - B * A;
        Assert.Equal("a - b * a", ExprFormatter.Plain(e, values: false));
        Assert.Equal("2.5 - (-0.25) * 2.5", ExprFormatter.Plain(e, values: true));
        Assert.Equal("-0.25 * 2.5", ExprFormatter.Plain(B * A, values: true));
        Assert.Equal(2.5 + 0.25 * 2.5, e.Evaluate());
    }

    [Fact]
    public void LatexUsesTheSeedsNotation()
    {
        var total = new Symbol("E_total", "E_{total}");
        Expr e = new Derivative(total, new Symbol("W11"), null) * new Fraction(1, 1 + new Exponential(-new Quantity("H1", 0.5)));
        Assert.Equal("\\frac{\\partial E_{total}}{\\partial W11} * \\frac{1}{1 + e^{-H1}}", ExprFormatter.Latex(e, values: false));
        Assert.Equal("∂E_total/∂W11 * 1/(1 + e^(-H1))", ExprFormatter.Plain(e, values: false));
        Assert.Equal("1.5 \\times 10^{-5}", ExprFormatter.LatexNumber(1.5e-5));
        // A derivative with a value substitutes; without one it stays symbolic.
        Assert.Equal("0.75", ExprFormatter.Plain(new Derivative(total, new Symbol("O1"), 0.75), values: true));
        Assert.Equal("∂E_total/∂O1", ExprFormatter.Plain(new Derivative(total, new Symbol("O1"), null), values: true));
    }

    [Fact]
    public void Eq28TypoKeepsTheBareDenominator()
    {
        var d = new Derivative(new Group(new Symbol("Q2")), new Symbol("P1"), null, BareDenominator: true);
        Assert.Equal("\\frac{\\partial (Q2)}{P1}", ExprFormatter.Latex(d, values: false));
    }
}
