namespace Backprop;

/// <summary>
/// The one error type for bad input that a user can fix: a malformed file, a wrong option, a shape that
/// does not fit. Its message names the file, line or field and says what was expected.
/// </summary>
public class BackpropException : Exception
{
    /// <summary>An error with its message: the file, line or field, and what was expected.</summary>
    public BackpropException(string message) : base(message) { }

    /// <summary>An error with its message and the exception that caused it.</summary>
    public BackpropException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A model file that cannot be read: names the file and the field.</summary>
public sealed class ModelFormatException : BackpropException
{
    /// <summary>A model-file error with its message: the file, the field, and what was expected.</summary>
    public ModelFormatException(string message) : base(message) { }

    /// <summary>A model-file error with its message and the exception that caused it.</summary>
    public ModelFormatException(string message, Exception inner) : base(message, inner) { }
}
