namespace Backprop;

/// <summary>
/// The one error type for bad input that a user can fix: a malformed file, a wrong option, a shape that
/// does not fit. Its message names the file, line or field and says what was expected.
/// </summary>
public class BackpropException : Exception
{
    public BackpropException(string message) : base(message) { }
    public BackpropException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A model file that cannot be read: names the file and the field.</summary>
public sealed class ModelFormatException : BackpropException
{
    public ModelFormatException(string message) : base(message) { }
    public ModelFormatException(string message, Exception inner) : base(message, inner) { }
}
