using Google.Apis.Auth;
using Microsoft.AspNetCore.Http;

namespace Kfci.Hosting;

/// <summary>Who signed a valid push token.</summary>
public sealed record PushIdentity(string Subject, string? Email, bool EmailVerified);

/// <summary>Validates the OIDC ID token Pub/Sub attaches to authenticated push requests.</summary>
public interface IPushTokenValidator
{
    /// <summary>
    /// Returns the token's identity when it is Google-signed, unexpired and issued for <paramref name="audience"/>.
    /// Throws <see cref="InvalidPushTokenException"/> when it is not; any other exception means validation
    /// could not be done now (e.g. Google's keys unreachable) and the request should be retried.
    /// </summary>
    Task<PushIdentity> ValidateAsync(string idToken, string audience, CancellationToken cancellationToken);
}

/// <summary>A push token that is malformed, expired, wrongly signed or for another audience.</summary>
public sealed class InvalidPushTokenException : Exception
{
    public InvalidPushTokenException()
    {
    }

    public InvalidPushTokenException(string message)
        : base(message)
    {
    }

    public InvalidPushTokenException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Validates tokens with Google.Apis.Auth, which fetches and caches Google's signing keys.</summary>
public sealed class GooglePushTokenValidator : IPushTokenValidator
{
    public async Task<PushIdentity> ValidateAsync(string idToken, string audience, CancellationToken cancellationToken)
    {
        try
        {
            var payload = await GoogleJsonWebSignature.ValidateAsync(idToken, new GoogleJsonWebSignature.ValidationSettings { Audience = [audience] })
                .WaitAsync(cancellationToken);
            return new PushIdentity(payload.Subject, payload.Email, payload.EmailVerified);
        }
        catch (InvalidJwtException e)
        {
            throw new InvalidPushTokenException(e.Message, e);
        }
    }
}

/// <summary>The answer to one push request's credentials: allowed, or the status and reason to refuse it with.</summary>
internal sealed record PushAuthenticationResult(int StatusCode, string? Failure)
{
    public static readonly PushAuthenticationResult Allowed = new(StatusCodes.Status200OK, null);

    public bool IsAllowed => Failure is null;
}

/// <summary>Maps a request's Authorization header to allowed, 401 (no bearer token) or 403 (a token that is not acceptable).</summary>
internal sealed class PushAuthenticator(IPushTokenValidator validator, string audience, string? serviceAccount)
{
    private const string BearerPrefix = "Bearer ";

    public async Task<PushAuthenticationResult> AuthenticateAsync(string? authorization, CancellationToken cancellationToken)
    {
        if (authorization is null || !authorization.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase) || authorization.Length == BearerPrefix.Length)
        {
            return new(StatusCodes.Status401Unauthorized, "missing bearer token: push authentication is required");
        }

        PushIdentity identity;
        try
        {
            identity = await validator.ValidateAsync(authorization[BearerPrefix.Length..].Trim(), audience, cancellationToken);
        }
        catch (InvalidPushTokenException e)
        {
            return new(StatusCodes.Status403Forbidden, $"invalid push token: {e.Message}");
        }

        if (serviceAccount is not null && !(identity.EmailVerified && string.Equals(identity.Email, serviceAccount, StringComparison.OrdinalIgnoreCase)))
        {
            return new(StatusCodes.Status403Forbidden, $"push token is for {identity.Email ?? "no email"}, not the allowed service account");
        }

        return PushAuthenticationResult.Allowed;
    }
}
