using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Kfci.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Kfci.Tests.Hosting;

public sealed class PushAuthenticationTests
{
    private const string Audience = "https://trigger.example.run.app";
    private const string PusherAccount = "pusher@p.iam.gserviceaccount.com";

    /// <summary>Accepts exactly the token "good" for <see cref="Audience"/>, as the given identity; there is no network for Google's keys here.</summary>
    private sealed class FakeValidator(string? email = PusherAccount, bool emailVerified = true) : IPushTokenValidator
    {
        public List<(string Token, string Audience)> Calls { get; } = [];

        public Task<PushIdentity> ValidateAsync(string idToken, string audience, CancellationToken cancellationToken)
        {
            Calls.Add((idToken, audience));
            if (idToken == "keys-unreachable")
            {
                throw new HttpRequestException("connection refused");
            }

            return idToken == "good" && audience == Audience
                ? Task.FromResult(new PushIdentity("123", email, emailVerified))
                : throw new InvalidPushTokenException("JWT signature is invalid");
        }
    }

    private static async Task<(TestHost Host, FakeValidator Validator)> StartAsync(string? serviceAccount = null, FakeValidator? validator = null)
    {
        var fake = validator ?? new FakeValidator();
        var host = await TestHost.StartAsync(
            new FunctionHostOptions { PushAudience = Audience, PushServiceAccount = serviceAccount },
            builder => builder.Services.AddSingleton<IPushTokenValidator>(fake));
        return (host, fake);
    }

    private static HttpRequestMessage Push(string? authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/")
        {
            Content = new StringContent("""{"message":{"messageId":"m"}}""", Encoding.UTF8, "application/json"),
        };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return request;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearer ")]
    public async Task Post_WithoutBearerToken_Answers401WithChallenge(string? authorization)
    {
        var (host, validator) = await StartAsync();
        await using var _ = host;

        using var response = await host.Client.SendAsync(Push(authorization));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Empty(validator.Calls);
        Assert.Empty(host.Function.Received);
    }

    [Fact]
    public async Task Post_InvalidToken_Answers403()
    {
        var (host, _) = await StartAsync();
        await using var _ = host;

        using var response = await host.Client.SendAsync(Push("Bearer forged"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(host.Function.Received);
        Assert.Contains(host.Warnings, w => w.Contains("403", StringComparison.Ordinal));
        Assert.DoesNotContain(host.Warnings, w => w.Contains("forged", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Post_ValidTokenForTheAudience_IsHandled()
    {
        var (host, validator) = await StartAsync();
        await using var _ = host;

        using var response = await host.Client.SendAsync(Push("Bearer good"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(("good", Audience), Assert.Single(validator.Calls));
        Assert.Single(host.Function.Received);
    }

    [Fact]
    public async Task Post_ValidTokenOfTheAllowedServiceAccount_IsHandled()
    {
        var (host, _) = await StartAsync(serviceAccount: PusherAccount.ToUpperInvariant());
        await using var _ = host;

        using var response = await host.Client.SendAsync(Push("Bearer good"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Theory]
    [InlineData("someone-else@p.iam.gserviceaccount.com", true)]
    [InlineData(PusherAccount, false)]
    [InlineData(null, true)]
    public async Task Post_ValidTokenOfAnotherAccount_Answers403(string? email, bool verified)
    {
        var (host, _) = await StartAsync(serviceAccount: PusherAccount, validator: new FakeValidator(email, verified));
        await using var _ = host;

        using var response = await host.Client.SendAsync(Push("Bearer good"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(host.Function.Received);
    }

    [Fact]
    public async Task Post_ValidatorCannotReachGoogle_Answers503SoPubSubRetries()
    {
        var (host, _) = await StartAsync();
        await using var _ = host;

        using var response = await host.Client.SendAsync(Push("Bearer keys-unreachable"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.DoesNotContain("connection refused", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(host.Function.Received);
    }

    [Fact]
    public async Task Post_AuthenticationOff_NeedsNoToken()
    {
        await using var host = await TestHost.StartAsync();

        using var response = await host.Client.SendAsync(Push(null));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task GooglePushTokenValidator_MalformedToken_ThrowsInvalidPushToken()
    {
        // A token that is not even a JWT fails before any key is fetched, so this needs no network.
        await Assert.ThrowsAsync<InvalidPushTokenException>(() => new GooglePushTokenValidator().ValidateAsync("not-a-jwt", Audience, CancellationToken.None));
    }
}
