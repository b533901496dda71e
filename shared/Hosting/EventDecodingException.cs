using Microsoft.AspNetCore.Http;

namespace Kfci.Hosting;

/// <summary>
/// A request the host cannot turn into an event. <see cref="StatusCode"/> is the 4xx it answers and
/// <see cref="Exception.Message"/> the one-line reason it writes in the body; the function is never called.
/// </summary>
public sealed class EventDecodingException : Exception
{
    public EventDecodingException()
        : this(StatusCodes.Status400BadRequest, "bad request")
    {
    }

    public EventDecodingException(string message)
        : this(StatusCodes.Status400BadRequest, message)
    {
    }

    public EventDecodingException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = StatusCodes.Status400BadRequest;
    }

    public EventDecodingException(int statusCode, string message)
        : base(message)
    {
        StatusCode = statusCode;
    }

    public int StatusCode { get; }

    internal static EventDecodingException BadRequest(string reason) => new(StatusCodes.Status400BadRequest, reason);

    internal static EventDecodingException UnsupportedMediaType(string reason) => new(StatusCodes.Status415UnsupportedMediaType, reason);
}
