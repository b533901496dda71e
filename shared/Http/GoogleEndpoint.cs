namespace Kfci.Http;

/// <summary>
/// Where a Google service lives and how to authenticate to it. An <c>*_EMULATOR_HOST</c> variable
/// (host:port, as the official clients read it) switches to plain HTTP with no credentials.
/// </summary>
public sealed record GoogleEndpoint(Uri BaseAddress, bool IsEmulator)
{
    public static GoogleEndpoint Resolve(string emulatorVariable, string productionBase, Func<string, string?>? getEnv = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(emulatorVariable);
        var host = (getEnv ?? Environment.GetEnvironmentVariable)(emulatorVariable);
        return string.IsNullOrWhiteSpace(host)
            ? new GoogleEndpoint(new Uri(productionBase), IsEmulator: false)
            : new GoogleEndpoint(EmulatorUri(host), IsEmulator: true);
    }

    /// <summary>Accepts <c>host:port</c> (the official form) or a full <c>http://host:port</c> URL.</summary>
    public static Uri EmulatorUri(string host)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        var text = host.Contains("://", StringComparison.Ordinal) ? host : "http://" + host;
        return new Uri(text.EndsWith('/') ? text : text + "/");
    }

    /// <summary>An HTTP client for this endpoint: bearer tokens unless it is an emulator, kfci's retry policy.</summary>
    public RestClient CreateClient(RetryOptions? retry = null, IAccessTokenSource? tokens = null)
    {
        HttpMessageHandler handler = HttpClients.CreateHandler();
        if (!IsEmulator)
        {
            handler = new BearerTokenHandler(tokens ?? new GoogleAccessTokens()) { InnerHandler = handler };
        }

        var http = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        return new RestClient(http, new RetryPolicy(retry ?? RetryOptions.Default));
    }
}

/// <summary>Connection settings shared by every outbound client.</summary>
public static class HttpClients
{
    public static SocketsHttpHandler CreateHandler() => new()
    {
        // Long-lived singletons must still notice DNS changes and drop connections a server half-closed.
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(50),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        MaxConnectionsPerServer = 64,
        AutomaticDecompression = System.Net.DecompressionMethods.GZip,
    };
}
