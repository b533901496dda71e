using Kfci.Http;

namespace Kfci.Kubernetes;

/// <summary>
/// Bearer tokens for an API server. <see cref="Invalidate"/> is called after a 401 so the next
/// <see cref="IAccessTokenSource.GetTokenAsync"/> fetches a fresh token instead of a cached one.
/// </summary>
public interface IKubernetesTokenSource : IAccessTokenSource
{
    void Invalidate();
}

/// <summary>A token written into the kubeconfig: nothing to refresh.</summary>
internal sealed class StaticToken(string token) : IKubernetesTokenSource
{
    public Task<string?> GetTokenAsync(CancellationToken cancellationToken) => Task.FromResult<string?>(token);

    public void Invalidate()
    {
    }
}

/// <summary>
/// A token file (kubeconfig <c>tokenFile</c>, or the projected service-account token in a pod). The kubelet
/// rotates projected tokens, so the file is re-read once a minute and after every 401.
/// </summary>
internal sealed class TokenFile(string path, TimeProvider? timeProvider = null) : IKubernetesTokenSource
{
    private static readonly TimeSpan s_rereadInterval = TimeSpan.FromMinutes(1);

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private string? _token;
    private DateTimeOffset _readAt;

    public string Path { get; } = path;

    public async Task<string?> GetTokenAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_token is not null && _time.GetUtcNow() - _readAt < s_rereadInterval)
            {
                return _token;
            }
        }

        string token;
        try
        {
            token = (await File.ReadAllTextAsync(Path, cancellationToken)).Trim();
        }
        catch (IOException e)
        {
            throw new KubeConfigException($"cannot read Kubernetes token file {Path}: {e.Message}", e);
        }

        lock (_lock)
        {
            _token = token;
            _readAt = _time.GetUtcNow();
        }

        return token;
    }

    public void Invalidate()
    {
        lock (_lock)
        {
            _token = null;
        }
    }
}
