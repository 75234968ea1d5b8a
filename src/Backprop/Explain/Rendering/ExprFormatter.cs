using System.Globalization;
using System.Text;

namespace Backprop.Explain.Rendering;

/// <summary>Prints an <see cref="Expr"/> in plain text or in the seed's LaTeX, with symbols or with numbers.</summary>
internal static class ExprFormatter
{
    /// <summary>A number as the derivation shows it: 10 significant digits, no trailing zeros.</summary>
    public static string Number(double value)
    {
        if (value == 0)
            return "0";
        return value.ToString("G10", CultureInfo.InvariantCulture);
    }

    /// <summary>A number in LaTeX: like <see cref="Number"/>, with <c>1.5E-05</c> written as <c>1.5 \times 10^{-5}</c>.</summary>
    public static string LatexNumber(double value)
    {
        string s = Number(value);
        int e = s.IndexOf('E', StringComparison.Ordinal);
        if (e < 0)
            return s;
        int exponent = int.Parse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return $"{s[..e]} \\times 10^{{{exponent}}}";
    }

    /// <summary>Plain text; <paramref name="values"/> substitutes every quantity (and derivative that has a value) by its number.</summary>
    public static string Plain(Expr expr, bool values)
    {
        var sb = new StringBuilder();
        Write(sb, expr, values, latex: false, leading: true);
        return sb.ToString();
    }

    /// <summary>LaTeX in the seed's style (<c>*</c> for products, <c>\frac</c>, <c>\partial</c>).</summary>
    public static string Latex(Expr expr, bool values)
    {
        var sb = new StringBuilder();
        Write(sb, expr, values, latex: true, leading: true);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, Expr expr, bool values, bool latex, bool leading)
    {
        switch (expr)
        {
            case Quantity q:
                if (values)
                    WriteNumber(sb, q.Value, latex, leading);
                else
                    sb.Append(latex ? q.Latex : q.Plain);
                break;
            case Symbol s:
                sb.Append(latex ? s.Latex : s.Plain);
                break;
            case Constant c:
                WriteNumber(sb, c.Value, latex, leading);
                break;
            case Binary b:
                Write(sb, b.Left, values, latex, leading);
                sb.Append(b.Operator switch
                {
                    BinaryOperator.Add => " + ",
                    BinaryOperator.Subtract => " - ",
                    BinaryOperator.Juxtapose => " ",
                    _ => " * ",
                });
                Write(sb, b.Right, values, latex, leading: false);
                break;
            case Negate n:
                sb.Append('-');
                Write(sb, n.Operand, values, latex, leading: false);
                break;
            case Group g:
                sb.Append('(');
                Write(sb, g.Inner, values, latex, leading: true);
                sb.Append(')');
                break;
            case Fraction f:
                if (latex)
                {
                    sb.Append("\\frac{");
                    Write(sb, f.Numerator, values, latex, leading: true);
                    sb.Append("}{");
                    Write(sb, f.Denominator, values, latex, leading: true);
                    sb.Append('}');
                }
                else
                {
                    WriteOperand(sb, f.Numerator, values);
                    sb.Append('/');
                    WriteOperand(sb, f.Denominator, values);
                }
                break;
            case Power p:
                Write(sb, p.Base, values, latex, leading: false);
                sb.Append(latex ? $"^{p.Exponent}" : $"^{p.Exponent}");
                break;
            case Exponential e:
                if (latex)
                {
                    sb.Append("e^{");
                    Write(sb, e.Exponent, values, latex, leading: true);
                    sb.Append('}');
                }
                else
                {
                    sb.Append("e^(");
                    Write(sb, e.Exponent, values, latex, leading: true);
                    sb.Append(')');
                }
                break;
            case Apply a:
                sb.Append(latex ? a.LatexFunction : a.Function).Append('(');
                Write(sb, a.Argument, values, latex, leading: true);
                sb.Append(')');
                break;
            case Derivative d:
                if (values && d.Value is { } v)
                {
                    WriteNumber(sb, v, latex, leading);
                    break;
                }
                if (latex)
                {
                    sb.Append("\\frac{\\partial ");
                    Write(sb, d.Of, false, latex, leading: true);
                    sb.Append(d.BareDenominator ? "}{" : "}{\\partial ");
                    Write(sb, d.Wrt, false, latex, leading: true);
                    sb.Append('}');
                }
                else
                {
                    sb.Append('∂');
                    Write(sb, d.Of, false, latex, leading: true);
                    sb.Append(d.BareDenominator ? "/" : "/∂");
                    Write(sb, d.Wrt, false, latex, leading: true);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(expr), expr.GetType().Name, "Unknown expression node.");
        }
    }

    /// <summary>A plain-text fraction operand: bare when it is a single name or number, else in parentheses.</summary>
    private static void WriteOperand(StringBuilder sb, Expr e, bool values)
    {
        bool simple = e is Quantity or Constant or Symbol or Group or Apply || (e is Derivative { Value: not null } && values);
        if (!simple)
            sb.Append('(');
        Write(sb, e, values, latex: false, leading: true);
        if (!simple)
            sb.Append(')');
    }

    /// <summary>Negative numbers are bracketed unless they start a term, so "a - -b" never appears.</summary>
    private static void WriteNumber(StringBuilder sb, double value, bool latex, bool leading)
    {
        string s = latex ? LatexNumber(value) : Number(value);
        if (value < 0 && !leading)
            sb.Append('(').Append(s).Append(')');
        else
            sb.Append(s);
    }
}
