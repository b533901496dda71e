using System.Net;
using System.Text;
using Kfci.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Kfci.Tests.Hosting;

/// <summary>
/// Push authentication behind Cloud Run: Cloud Run verifies the token and forwards it with its signature removed, so the
/// host checks the forwarded claims; off Cloud Run such a token is worthless and every token is verified in full.
/// </summary>
public sealed class CloudRunPushAuthenticationTests
{
    private static async Task<TestHost> StartAsync(bool onCloudRun, IPushTokenValidator? validator = null) =>
        await TestHost.StartAsync(
            new FunctionHostOptions { PushAudience = TestPushTokens.Audience, PushServiceAccount = TestPushTokens.PushAccount, OnCloudRun = onCloudRun },
            builder => builder.Services.AddSingleton(validator ?? new RefusingValidator()));

    private static HttpRequestMessage Push(string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/projects/p/topics/prow-events")
        {
            Content = new StringContent("""{"message":{"data":"eyJrIjoxfQ==","messageId":"m-1"},"subscription":"projects/p/subscriptions/s"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        return request;
    }

    [Fact]
    public async Task Post_TokenAsCloudRunForwardsIt_OnCloudRun_IsHandledWithoutSignatureCheck()
    {
        var validator = new RefusingValidator();
        await using var host = await StartAsync(onCloudRun: true, validator);

        using var response = await host.Client.SendAsync(Push(TestPushTokens.Forwarded(TestPushTokens.Claims())));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Single(host.Function.Received);
        Assert.Equal(0, validator.Calls);
    }

    [Theory]
    [InlineData("accounts.google.com")]
    [InlineData("https://accounts.google.com")]
    public async Task Post_ForwardedTokenFromEitherGoogleIssuerSpelling_IsHandled(string issuer)
    {
        await using var host = await StartAsync(onCloudRun: true);

        using var response = await host.Client.SendAsync(Push(TestPushTokens.Forwarded(TestPushTokens.Claims(c => c["iss"] = issuer))));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    public static TheoryData<string, Action<Dictionary<string, object>>, string> BadClaims => new()
    {
        { "another audience", c => c["aud"] = "https://kfci-trigger-999.europe-west1.run.app", "another audience" },
        { "the shared constant of old installs", c => c["aud"] = "kfci-push", "another audience" },
        { "another issuer", c => c["iss"] = "https://evil.example.com", "issuer" },
        { "no issuer", c => c.Remove("iss"), "issuer" },
        { "expired", c => c["exp"] = DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), "expired" },
        { "no expiry", c => c.Remove("exp"), "expiry" },
        { "issued in the future", c => c["iat"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(), "future" },
        { "another service account", c => c["email"] = "someone@p.iam.gserviceaccount.com", "someone@p.iam.gserviceaccount.com" },
        { "an unverified email", c => c["email_verified"] = false, "unverified" },
        { "no email", c => c.Remove("email"), "no email" },
    };

    [Theory]
    [MemberData(nameof(BadClaims))]
    public async Task Post_ForwardedTokenWithBadClaim_Answers403WithoutCallingTheFunction(string what, Action<Dictionary<string, object>> change, string expectedReason)
    {
        await using var host = await StartAsync(onCloudRun: true);

        using var response = await host.Client.SendAsync(Push(TestPushTokens.Forwarded(TestPushTokens.Claims(change))));

        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{what}: {response.StatusCode}");
        Assert.Contains(expectedReason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(host.Function.Received);
    }

    [Theory]
    [InlineData("e30.e30")]
    [InlineData("not-base64!.e30.SIGNATURE_REMOVED_BY_GOOGLE")]
    [InlineData("e30.bm90IGpzb24.SIGNATURE_REMOVED_BY_GOOGLE")]
    [InlineData("e30.e30.e30.SIGNATURE_REMOVED_BY_GOOGLE")]
    public async Task Post_MalformedForwardedToken_Answers403(string token)
    {
        await using var host = await StartAsync(onCloudRun: true);

        using var response = await host.Client.SendAsync(Push(token));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(host.Function.Received);
    }

    [Fact]
    public async Task Post_ForwardedTokenOffCloudRun_Answers403EvenWithRightClaims()
    {
        // Off Cloud Run nobody verified the signature that was "removed": anyone can write such a token.
        var validator = new RefusingValidator();
        await using var host = await StartAsync(onCloudRun: false, validator);

        using var response = await host.Client.SendAsync(Push(TestPushTokens.Forwarded(TestPushTokens.Claims())));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("not on Cloud Run", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(host.Function.Received);
        Assert.Equal(0, validator.Calls);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Post_FullySignedToken_IsVerifiedAgainstThePublishedKeys(bool onCloudRun)
    {
        // Off Cloud Run, and on Cloud Run when a token arrives unstripped, the signature itself is checked.
        await using var tokens = await TestPushTokens.StartAsync();
        await using var host = await StartAsync(onCloudRun, new GooglePushTokenValidator(tokens.CertificatesUrl));

        using var signed = await host.Client.SendAsync(Push(tokens.Signed(TestPushTokens.Claims())));
        using var forged = await host.Client.SendAsync(Push(TestPushTokens.SignedByStranger(TestPushTokens.Claims())));

        Assert.Equal(HttpStatusCode.NoContent, signed.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Single(host.Function.Received);
    }

    /// <summary>Counts calls and refuses every token: the forwarded-token path must never need it.</summary>
    private sealed class RefusingValidator : IPushTokenValidator
    {
        private int _calls;

        public int Calls => _calls;

        public Task<PushIdentity> ValidateAsync(string idToken, string audience, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            throw new InvalidPushTokenException("JWT signature is invalid");
        }
    }
}

/// <summary><see cref="GooglePushTokenValidator"/> against a test key set: what it accepts and what it refuses.</summary>
public sealed class GooglePushTokenValidatorTests : IAsyncLifetime
{
    private TestPushTokens _tokens = null!;

    public async Task InitializeAsync() => _tokens = await TestPushTokens.StartAsync();

    public async Task DisposeAsync() => await _tokens.DisposeAsync();

    [Fact]
    public async Task ValidateAsync_SignedByThePublishedKey_ReturnsThePushIdentity()
    {
        var identity = await new GooglePushTokenValidator(_tokens.CertificatesUrl).ValidateAsync(_tokens.Signed(TestPushTokens.Claims()), TestPushTokens.Audience, CancellationToken.None);

        Assert.Equal(TestPushTokens.PushAccount, identity.Email);
        Assert.True(identity.EmailVerified);
    }

    public static TheoryData<string, Action<Dictionary<string, object>>> BadClaims => new()
    {
        { "another audience", c => c["aud"] = "https://elsewhere.example.com" },
        { "another issuer", c => c["iss"] = "https://evil.example.com" },
        { "expired", c => c["exp"] = DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds() },
    };

    [Theory]
    [MemberData(nameof(BadClaims))]
    public async Task ValidateAsync_SignedTokenWithBadClaim_Throws(string what, Action<Dictionary<string, object>> change)
    {
        var validator = new GooglePushTokenValidator(_tokens.CertificatesUrl);

        var error = await Assert.ThrowsAsync<InvalidPushTokenException>(() => validator.ValidateAsync(_tokens.Signed(TestPushTokens.Claims(change)), TestPushTokens.Audience, CancellationToken.None));

        Assert.False(string.IsNullOrEmpty(error.Message), what);
    }

    [Fact]
    public async Task ValidateAsync_ForwardedTokenWithoutSignature_Throws()
    {
        var validator = new GooglePushTokenValidator(_tokens.CertificatesUrl);

        await Assert.ThrowsAsync<InvalidPushTokenException>(() => validator.ValidateAsync(TestPushTokens.Forwarded(TestPushTokens.Claims()), TestPushTokens.Audience, CancellationToken.None));
    }

    [Fact]
    public async Task ValidateAsync_SignedByAStranger_Throws()
    {
        var validator = new GooglePushTokenValidator(_tokens.CertificatesUrl);

        await Assert.ThrowsAsync<InvalidPushTokenException>(() => validator.ValidateAsync(TestPushTokens.SignedByStranger(TestPushTokens.Claims()), TestPushTokens.Audience, CancellationToken.None));
    }
}
