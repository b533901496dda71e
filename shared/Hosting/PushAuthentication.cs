using System.Buffers.Text;
using System.Text;
using Google.Apis.Auth;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Json;
using Microsoft.AspNetCore.Http;

namespace Kfci.Hosting;

/// <summary>Who a valid push token names.</summary>
public sealed record PushIdentity(string Subject, string? Email, bool EmailVerified);

/// <summary>Validates the OIDC ID token Pub/Sub attaches to authenticated push requests.</summary>
public interface IPushTokenValidator
{
    /// <summary>
    /// Returns the token's identity when it is Google-signed, unexpired, issued by Google and for <paramref name="audience"/>.
    /// Throws <see cref="InvalidPushTokenException"/> when it is not; any other exception means validation
    /// could not be done now (e.g. Google's keys unreachable) and the request should be retried.
    /// </summary>
    Task<PushIdentity> ValidateAsync(string idToken, string audience, CancellationToken cancellationToken);
}

/// <summary>A push token that is malformed, expired, wrongly signed, from another issuer or for another audience.</summary>
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

/// <summary>The issuers of Google's ID tokens, as Pub/Sub's push tokens carry them.</summary>
internal static class GoogleIssuers
{
    public static readonly string[] All = ["accounts.google.com", "https://accounts.google.com"];
}

/// <summary>
/// Verifies a token's signature against Google's published keys with Google.Apis.Auth (which fetches and caches them),
/// then its issuer, audience and expiry. <paramref name="certificatesUrl"/> names another key set (tests).
/// </summary>
public sealed class GooglePushTokenValidator(string? certificatesUrl = null) : IPushTokenValidator
{
    private readonly string _certificatesUrl = certificatesUrl ?? GoogleAuthConsts.JsonWebKeySetUrl;

    public async Task<PushIdentity> ValidateAsync(string idToken, string audience, CancellationToken cancellationToken)
    {
        var options = new SignedTokenVerificationOptions
        {
            CertificatesUrl = _certificatesUrl,
            IssuedAtClockTolerance = ForwardedPushToken.ClockTolerance,
            ExpiryClockTolerance = ForwardedPushToken.ClockTolerance,
        };
        options.TrustedAudiences.Add(audience);
        foreach (var issuer in GoogleIssuers.All)
        {
            options.TrustedIssuers.Add(issuer);
        }

        try
        {
            var payload = await JsonWebSignature.VerifySignedTokenAsync<GoogleJsonWebSignature.Payload>(idToken, options, cancellationToken);
            return new PushIdentity(payload.Subject, payload.Email, payload.EmailVerified);
        }
        catch (InvalidJwtException e)
        {
            throw new InvalidPushTokenException(e.Message, e);
        }
    }
}

/// <summary>
/// A push token as Cloud Run forwards it after its invoker check: <c>header.payload.SIGNATURE_REMOVED_BY_GOOGLE</c>.
/// Cloud Run has verified the signature, so only the claims are checked here: the issuer is Google, the audience is
/// this deployment's, and the token has not expired. Such a token is trusted only on Cloud Run: anywhere else anyone
/// could write one.
/// </summary>
public static class ForwardedPushToken
{
    /// <summary>What Cloud Run puts where the signature was.</summary>
    public const string RemovedSignature = "SIGNATURE_REMOVED_BY_GOOGLE";

    /// <summary>Clock skew allowed between Google and this instance when checking expiry and issue time.</summary>
    public static readonly TimeSpan ClockTolerance = TimeSpan.FromSeconds(30);

    /// <summary>True when the token's signature is Cloud Run's placeholder.</summary>
    public static bool IsForwarded(string idToken)
    {
        ArgumentNullException.ThrowIfNull(idToken);
        return idToken.EndsWith("." + RemovedSignature, StringComparison.Ordinal);
    }

    /// <summary>Checks a forwarded token's claims; throws <see cref="InvalidPushTokenException"/> naming the first that fails.</summary>
    public static PushIdentity Validate(string idToken, string audience, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(idToken);
        var parts = idToken.Split('.');
        if (parts.Length != 3 || parts[2] != RemovedSignature)
        {
            throw new InvalidPushTokenException("not a token forwarded by Cloud Run (header.payload." + RemovedSignature + ")");
        }

        _ = Decode<JsonWebSignature.Header>(parts[0], "header");
        var payload = Decode<GoogleJsonWebSignature.Payload>(parts[1], "payload");
        if (payload.Issuer is not { } issuer || !GoogleIssuers.All.Contains(issuer, StringComparer.Ordinal))
        {
            throw new InvalidPushTokenException($"issuer '{payload.Issuer}' is not Google");
        }

        if (!payload.AudienceAsList.Contains(audience, StringComparer.Ordinal))
        {
            throw new InvalidPushTokenException("the token is for another audience");
        }

        if (payload.ExpirationTimeSeconds is not { } expires || DateTimeOffset.FromUnixTimeSeconds(expires) + ClockTolerance < now)
        {
            throw new InvalidPushTokenException(payload.ExpirationTimeSeconds is null ? "the token has no expiry" : "the token has expired");
        }

        if (payload.IssuedAtTimeSeconds is { } issued && DateTimeOffset.FromUnixTimeSeconds(issued) - ClockTolerance > now)
        {
            throw new InvalidPushTokenException("the token is issued in the future");
        }

        return new PushIdentity(payload.Subject, payload.Email, payload.EmailVerified);
    }

    private static T Decode<T>(string segment, string what)
    {
        try
        {
            var json = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(segment));
            return NewtonsoftJsonSerializer.Instance.Deserialize<T>(json) ?? throw new InvalidPushTokenException($"the token's {what} is empty");
        }
        catch (Exception e) when (e is FormatException or Newtonsoft.Json.JsonException)
        {
            throw new InvalidPushTokenException($"the token's {what} is not base64url-encoded JSON", e);
        }
    }
}

/// <summary>The answer to one push request's credentials: allowed, or the status and reason to refuse it with.</summary>
internal sealed record PushAuthenticationResult(int StatusCode, string? Failure)
{
    public static readonly PushAuthenticationResult Allowed = new(StatusCodes.Status200OK, null);

    public bool IsAllowed => Failure is null;
}

/// <summary>
/// Maps a request's Authorization header to allowed, 401 (no bearer token) or 403 (a token that is not acceptable).
/// A token whose signature Cloud Run removed is accepted only when <paramref name="onCloudRun"/> (its claims are then
/// checked); every other token is verified in full. Either way the token must name <paramref name="serviceAccount"/>
/// as a verified email when one is configured.
/// </summary>
internal sealed class PushAuthenticator(IPushTokenValidator validator, string audience, string? serviceAccount, bool onCloudRun, TimeProvider clock)
{
    private const string BearerPrefix = "Bearer ";

    public async Task<PushAuthenticationResult> AuthenticateAsync(string? authorization, CancellationToken cancellationToken)
    {
        if (authorization is null || !authorization.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase) || authorization.Length == BearerPrefix.Length)
        {
            return new(StatusCodes.Status401Unauthorized, "missing bearer token: push authentication is required");
        }

        var token = authorization[BearerPrefix.Length..].Trim();
        PushIdentity identity;
        try
        {
            identity = ForwardedPushToken.IsForwarded(token)
                ? onCloudRun
                    ? ForwardedPushToken.Validate(token, audience, clock.GetUtcNow())
                    : throw new InvalidPushTokenException("the token's signature was removed, which only Cloud Run may do, and this host is not on Cloud Run")
                : await validator.ValidateAsync(token, audience, cancellationToken);
        }
        catch (InvalidPushTokenException e)
        {
            return new(StatusCodes.Status403Forbidden, $"invalid push token: {e.Message}");
        }

        if (serviceAccount is not null && !(identity.EmailVerified && string.Equals(identity.Email, serviceAccount, StringComparison.OrdinalIgnoreCase)))
        {
            return new(StatusCodes.Status403Forbidden, $"push token is for {identity.Email ?? "no email"}{(identity.EmailVerified ? string.Empty : " (unverified)")}, not the push service account");
        }

        return PushAuthenticationResult.Allowed;
    }
}
