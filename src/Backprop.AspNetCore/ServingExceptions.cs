namespace Backprop.AspNetCore;

/// <summary>
/// A request the server refuses: a 4xx status, a message that says what is wrong and what was expected, and the
/// field it is about (a JSON Pointer into the body such as <c>/3/petal_width</c>, a CSV line and column, a header
/// or query parameter name), when there is one.
/// </summary>
public sealed class ServingRequestException : Exception
{
    /// <summary>A refusal with <paramref name="status"/> (400 unless said otherwise).</summary>
    public ServingRequestException(string message, string? field = null, int status = 400) : base(message)
    {
        if (status is < 400 or > 499)
            throw new ArgumentOutOfRangeException(nameof(status), status, "A refused request is answered 4xx.");
        Field = field;
        Status = status;
    }

    /// <summary>What the error is about, or null.</summary>
    public string? Field { get; }

    /// <summary>The HTTP status to answer (4xx).</summary>
    public int Status { get; }
}

/// <summary>The server cannot take the request now (no model loaded yet, the queue full, a timeout): answered 503 with Retry-After.</summary>
public sealed class ServingUnavailableException(string message) : Exception(message)
{
    /// <summary>Seconds the client should wait before retrying.</summary>
    public const int RetryAfterSeconds = 1;
}
