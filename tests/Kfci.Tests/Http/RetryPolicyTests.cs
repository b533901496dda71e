using System.Net;
using Kfci.Http;

namespace Kfci.Tests.Http;

public sealed class RetryPolicyTests
{
    private static readonly RetryOptions s_fast = new() { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5), MaxRetries = 3 };

    [Fact]
    public async Task ExecuteAsync_TransientThenSuccess_Retries()
    {
        var attempts = 0;
        var result = await new RetryPolicy(s_fast).ExecuteAsync(
            _ => ++attempts < 3 ? throw new ApiException(HttpStatusCode.ServiceUnavailable, null, "busy") : ValueTask.FromResult(attempts),
            CancellationToken.None);
        Assert.Equal(3, result);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Conflict)]
    [InlineData(HttpStatusCode.PreconditionFailed)]
    public async Task ExecuteAsync_PermanentClientError_NeverRetried(HttpStatusCode status)
    {
        var attempts = 0;
        await Assert.ThrowsAsync<ApiException>(() => new RetryPolicy(s_fast).ExecuteAsync<int>(
            _ => { attempts++; throw new ApiException(status, null, "no"); }, CancellationToken.None).AsTask());
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task ExecuteAsync_RetryAfter_WaitsAtLeastThatLong()
    {
        var attempts = 0;
        var started = DateTime.UtcNow;
        await new RetryPolicy(s_fast).ExecuteAsync(
            _ => ++attempts == 1
                ? throw new ApiException(HttpStatusCode.TooManyRequests, null, "slow down", TimeSpan.FromMilliseconds(300))
                : ValueTask.FromResult(0),
            CancellationToken.None);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(290));
    }

    [Fact]
    public async Task ExecuteAsync_AlwaysFailing_GivesUpAfterMaxRetries()
    {
        var attempts = 0;
        await Assert.ThrowsAsync<HttpRequestException>(() => new RetryPolicy(s_fast).ExecuteAsync<int>(
            _ => { attempts++; throw new HttpRequestException("reset"); }, CancellationToken.None).AsTask());
        Assert.Equal(4, attempts);
    }

    [Fact]
    public void Parse_GoogleAndKubernetesErrorBodies_ReadReason()
    {
        Assert.Equal("ABORTED", ApiErrors.Parse("""{"error":{"code":409,"message":"contention","status":"ABORTED"}}""").Reason);
        Assert.Equal("conditionNotMet", ApiErrors.Parse("""{"error":{"code":412,"message":"x","errors":[{"reason":"conditionNotMet"}]}}""").Reason);
        Assert.Equal("AlreadyExists", ApiErrors.Parse("""{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"AlreadyExists","message":"exists","code":409}""").Reason);
        Assert.Null(ApiErrors.Parse("<html>bad gateway</html>").Reason);
    }
}
