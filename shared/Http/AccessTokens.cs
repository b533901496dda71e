using System.Net.Http.Headers;
using Google.Apis.Auth.OAuth2;

namespace Kfci.Http;

/// <summary>Where bearer tokens for Google APIs come from. Null tokens mean "send no Authorization header".</summary>
public interface IAccessTokenSource
{
    Task<string?> GetTokenAsync(CancellationToken cancellationToken);
}

/// <summary>For emulators and fakes: they accept anonymous requests.</summary>
public sealed class NoAccessTokens : IAccessTokenSource
{
    public static NoAccessTokens Instance { get; } = new();

    public Task<string?> GetTokenAsync(CancellationToken cancellationToken) => Task.FromResult<string?>(null);
}

/// <summary>
/// Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file, or the metadata
/// server on Cloud Run/Functions), scoped for cloud-platform. Resolved lazily so a process that only talks
/// to emulators never looks for credentials.
/// </summary>
public sealed class GoogleAccessTokens : IAccessTokenSource
{
    public const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

    private readonly Lazy<Task<ITokenAccess>> _credential;

    public GoogleAccessTokens(Func<Task<ITokenAccess>>? credentialFactory = null)
    {
        _credential = new Lazy<Task<ITokenAccess>>(credentialFactory ?? DefaultCredentialAsync);
    }

    public async Task<string?> GetTokenAsync(CancellationToken cancellationToken)
    {
        var credential = await _credential.Value;
        return await credential.GetAccessTokenForRequestAsync(cancellationToken: cancellationToken);
    }

    private static async Task<ITokenAccess> DefaultCredentialAsync()
    {
        try
        {
            var credential = await GoogleCredential.GetApplicationDefaultAsync();
            return credential.CreateScoped(CloudPlatformScope);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException(
                "No Google credentials found: set GOOGLE_APPLICATION_CREDENTIALS, run 'gcloud auth application-default login', "
                + "or point the *_EMULATOR_HOST variables at emulators.", e);
        }
    }
}

/// <summary>Adds <c>Authorization: Bearer</c> from an <see cref="IAccessTokenSource"/> to every request.</summary>
public sealed class BearerTokenHandler(IAccessTokenSource tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await tokens.GetTokenAsync(cancellationToken);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await base.SendAsync(request, cancellationToken);
    }
}
