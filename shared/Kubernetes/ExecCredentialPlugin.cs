using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kfci.Kubernetes;

/// <summary>
/// A kubeconfig <c>exec</c> credential plugin (e.g. <c>gke-gcloud-auth-plugin</c>): runs the command, reads the
/// <c>ExecCredential</c> it prints, and caches <c>status.token</c> until <c>status.expirationTimestamp</c>
/// (or until a 401 invalidates it). kfci never runs plugins interactively: there is no terminal in a function.
/// </summary>
internal sealed class ExecCredentialPlugin : IKubernetesTokenSource
{
    private const string DefaultApiVersion = "client.authentication.k8s.io/v1beta1";

    // Refresh a little early so a token does not expire between being read and reaching the server.
    private static readonly TimeSpan s_expirySkew = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_pluginTimeout = TimeSpan.FromMinutes(1);

    private readonly ExecEntry _exec;
    private readonly JsonObject? _clusterInfo;
    private readonly string? _configDirectory;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private Task<(string Token, DateTimeOffset? ExpiresAt)>? _credential;

    public ExecCredentialPlugin(ExecEntry exec, JsonObject? clusterInfo, string? configDirectory, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(exec);
        if (string.IsNullOrWhiteSpace(exec.Command))
        {
            throw new KubeConfigException("kubeconfig user.exec has no command");
        }

        if (string.Equals(exec.InteractiveMode, "Always", StringComparison.Ordinal))
        {
            throw new KubeConfigException($"exec plugin '{exec.Command}' needs interactiveMode Always, but kfci runs without a terminal");
        }

        _exec = exec;
        _clusterInfo = exec.ProvideClusterInfo ? clusterInfo : null;
        _configDirectory = configDirectory;
        _time = timeProvider ?? TimeProvider.System;
    }

    public async Task<string?> GetTokenAsync(CancellationToken cancellationToken)
    {
        Task<(string Token, DateTimeOffset? ExpiresAt)> credential;
        lock (_lock)
        {
            if (_credential is null || (_credential.IsCompleted && !IsUsable(_credential)))
            {
                // Not tied to one caller's token: concurrent callers share the run, and the plugin has its own
                // timeout. Started outside this lock's critical path, since spawning a process takes a while.
                _credential = Task.Run(() => RunAsync(CancellationToken.None), CancellationToken.None);
            }

            credential = _credential;
        }

        return (await credential.WaitAsync(cancellationToken)).Token;
    }

    public void Invalidate()
    {
        lock (_lock)
        {
            if (_credential is { IsCompleted: true })
            {
                _credential = null;
            }
        }
    }

    private bool IsUsable(Task<(string Token, DateTimeOffset? ExpiresAt)> credential) =>
        credential.IsCompletedSuccessfully
        && (credential.Result.ExpiresAt is not { } expiry || _time.GetUtcNow() < expiry - s_expirySkew);

    private async Task<(string Token, DateTimeOffset? ExpiresAt)> RunAsync(CancellationToken cancellationToken)
    {
        using var process = new Process { StartInfo = CreateStartInfo() };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            var hint = string.IsNullOrWhiteSpace(_exec.InstallHint) ? "install it or fix user.exec.command in the kubeconfig" : _exec.InstallHint.Trim();
            throw new KubeConfigException($"exec credential plugin '{_exec.Command}' could not be started ({e.Message}): {hint}", e);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_pluginTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new KubeConfigException($"exec credential plugin '{_exec.Command}' did not finish within {s_pluginTimeout.TotalSeconds:0} s");
        }

        if (process.ExitCode != 0)
        {
            var error = FirstLine(await stderr);
            throw new KubeConfigException($"exec credential plugin '{_exec.Command}' exited with {process.ExitCode}: {error}");
        }

        return ParseCredential(await stdout, _exec.Command!);
    }

    private ProcessStartInfo CreateStartInfo()
    {
        var info = new ProcessStartInfo(ResolveCommand())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in _exec.Args ?? [])
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var variable in _exec.Env ?? [])
        {
            info.Environment[variable.Name] = variable.Value ?? string.Empty;
        }

        info.Environment["KUBERNETES_EXEC_INFO"] = ExecInfo().ToJsonString();
        return info;
    }

    // kubectl resolves a relative command that names a path against the kubeconfig's directory.
    private string ResolveCommand()
    {
        var command = _exec.Command!;
        return command.Contains('/', StringComparison.Ordinal) && !System.IO.Path.IsPathRooted(command) && _configDirectory is not null
            ? System.IO.Path.GetFullPath(System.IO.Path.Combine(_configDirectory, command))
            : command;
    }

    private JsonObject ExecInfo()
    {
        var spec = new JsonObject { ["interactive"] = false };
        if (_clusterInfo is not null)
        {
            spec["cluster"] = _clusterInfo.DeepClone();
        }

        return new JsonObject
        {
            ["apiVersion"] = _exec.ApiVersion ?? DefaultApiVersion,
            ["kind"] = "ExecCredential",
            ["spec"] = spec,
        };
    }

    internal static (string Token, DateTimeOffset? ExpiresAt) ParseCredential(string output, string command)
    {
        JsonNode? credential;
        try
        {
            credential = JsonNode.Parse(output);
        }
        catch (JsonException e)
        {
            throw new KubeConfigException($"exec credential plugin '{command}' printed no ExecCredential JSON: {e.Message}", e);
        }

        var status = credential?["status"] as JsonObject;
        var token = status?["token"]?.GetValue<string>();
        if (string.IsNullOrEmpty(token))
        {
            throw new KubeConfigException($"exec credential plugin '{command}' returned no status.token (client certificates from plugins are not supported)");
        }

        var expiry = status!["expirationTimestamp"]?.GetValue<string>();
        DateTimeOffset? expiresAt = expiry is null
            ? null
            : DateTimeOffset.Parse(expiry, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
        return (token, expiresAt);
    }

    private static string FirstLine(string text)
    {
        var line = text.Trim().Split('\n', 2)[0].Trim();
        return line.Length == 0 ? "(no error output)" : line;
    }
}
