using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kfci.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kfci.Tests.Hosting;

/// <summary>
/// Push ID tokens as Pub/Sub mints them (RS256, Google's issuer, the subscription's audience, the push service account's
/// email), signed with a test key whose JSON Web Key Set a loopback server publishes in Google's format; and the same
/// tokens as Cloud Run forwards them after its invoker check, with the signature replaced by <c>SIGNATURE_REMOVED_BY_GOOGLE</c>.
/// </summary>
internal sealed class TestPushTokens : IAsyncDisposable
{
    public const string Audience = "https://kfci-trigger-123456789.europe-west1.run.app";
    public const string PushAccount = "kfci-pubsub-invoker@p.iam.gserviceaccount.com";
    private const string KeyId = "kfci-test-key";

    private readonly RSA _key = RSA.Create(2048);
    private readonly WebApplication _keySet;

    private TestPushTokens(WebApplication keySet, string url)
    {
        _keySet = keySet;
        CertificatesUrl = url;
    }

    /// <summary>Where the key set is served, for <see cref="GooglePushTokenValidator"/>.</summary>
    public string CertificatesUrl { get; }

    public static async Task<TestPushTokens> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        TestPushTokens? tokens = null;
        app.Run(context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(tokens!.KeySet());
        });
        await app.StartAsync();
        tokens = new TestPushTokens(app, app.Urls.Single().TrimEnd('/') + "/oauth2/v3/certs");
        return tokens;
    }

    /// <summary>The claims Pub/Sub puts in a push token; <paramref name="change"/> breaks one for a test.</summary>
    public static Dictionary<string, object> Claims(Action<Dictionary<string, object>>? change = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new Dictionary<string, object>
        {
            ["aud"] = Audience,
            ["azp"] = "113774264463038321964",
            ["email"] = PushAccount,
            ["email_verified"] = true,
            ["exp"] = now + 3600,
            ["iat"] = now,
            ["iss"] = "https://accounts.google.com",
            ["sub"] = "113774264463038321964",
        };
        change?.Invoke(claims);
        return claims;
    }

    /// <summary>A token signed with this key set's key, as Pub/Sub sends it.</summary>
    public string Signed(Dictionary<string, object> claims) => Sign(claims, _key);

    /// <summary>A token signed with a key nobody published.</summary>
    public static string SignedByStranger(Dictionary<string, object> claims)
    {
        using var stranger = RSA.Create(2048);
        return Sign(claims, stranger);
    }

    /// <summary>The token as Cloud Run hands it to the container after verifying it: <c>header.payload.SIGNATURE_REMOVED_BY_GOOGLE</c>.</summary>
    public static string Forwarded(Dictionary<string, object> claims) => $"{Header()}.{Encode(claims)}.{ForwardedPushToken.RemovedSignature}";

    public async ValueTask DisposeAsync()
    {
        await _keySet.DisposeAsync();
        _key.Dispose();
    }

    private static string Sign(Dictionary<string, object> claims, RSA key)
    {
        var signedPart = $"{Header()}.{Encode(claims)}";
        var signature = key.SignData(Encoding.ASCII.GetBytes(signedPart), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{signedPart}.{Base64Url.EncodeToString(signature)}";
    }

    private static string Header() => Encode(new Dictionary<string, object> { ["alg"] = "RS256", ["kid"] = KeyId, ["typ"] = "JWT" });

    private static string Encode(object value) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(value));

    private string KeySet()
    {
        var parameters = _key.ExportParameters(includePrivateParameters: false);
        var key = new Dictionary<string, string>
        {
            ["kty"] = "RSA",
            ["alg"] = "RS256",
            ["use"] = "sig",
            ["kid"] = KeyId,
            ["n"] = Base64Url.EncodeToString(parameters.Modulus),
            ["e"] = Base64Url.EncodeToString(parameters.Exponent),
        };
        return JsonSerializer.Serialize(new { keys = new[] { key } });
    }
}
