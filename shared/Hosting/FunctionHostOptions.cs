using System.Globalization;
using System.Net;
using Kfci.Configuration;
using Kfci.PubSub;

namespace Kfci.Hosting;

/// <summary>How log lines are written.</summary>
public enum LogFormat
{
    /// <summary>One JSON object per line, with the fields Cloud Logging understands.</summary>
    Json,

    /// <summary>One readable line per entry, for a terminal.</summary>
    Text,
}

/// <summary>
/// The host's settings, from the Functions Framework contract (<c>FUNCTION_TARGET</c>/<c>--target</c>,
/// <c>PORT</c>/<c>--port</c>; flags win) and kfci's own <c>KFCI_*</c> variables (<see cref="KfciEnvironment"/>).
/// </summary>
public sealed record FunctionHostOptions
{
    public const int DefaultPort = 8080;

    /// <summary>
    /// The largest push body a legal Pub/Sub message makes (<see cref="PubSubLimits.MaxPushBodyBytes"/>: 10 MB of data
    /// base64-encoded, attributes and envelope); anything bigger is never a legitimate push.
    /// </summary>
    public const long DefaultMaxRequestBytes = PubSubLimits.MaxPushBodyBytes;

    /// <summary>The function to serve; may be null when the project registers exactly one.</summary>
    public string? Target { get; init; }

    /// <summary>TCP port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = DefaultPort;

    public IPAddress BindAddress { get; init; } = IPAddress.Loopback;

    public long MaxRequestBytes { get; init; } = DefaultMaxRequestBytes;

    /// <summary>Expected audience of push OIDC tokens; null turns push authentication off (never allowed on Cloud Run).</summary>
    public string? PushAudience { get; init; }

    /// <summary>The only service account (email) whose push tokens are accepted; null accepts any for the audience (not on Cloud Run).</summary>
    public string? PushServiceAccount { get; init; }

    /// <summary>
    /// The host runs as a Cloud Run service (<c>K_SERVICE</c> is set): Cloud Run's invoker check has verified a push's ID token
    /// and forwards it with its signature removed, so the host checks its claims; push authentication is then mandatory.
    /// </summary>
    public bool OnCloudRun { get; init; }

    public LogFormat LogFormat { get; init; } = LogFormat.Json;

    /// <summary>GCP project for Cloud Logging trace ids (<c>projects/P/traces/T</c>); trace fields are omitted when null.</summary>
    public string? Project { get; init; }

    /// <summary>
    /// Reads the options from command-line <paramref name="args"/> and <paramref name="environment"/>.
    /// Throws <see cref="FunctionHostConfigurationException"/> naming the variable or flag to fix.
    /// </summary>
    public static FunctionHostOptions Read(IReadOnlyList<string> args, Func<string, string?> environment, bool stdoutIsTerminal)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        var flags = ParseFlags(args);
        string? Env(string name) => environment(name) is { Length: > 0 } value ? value : null;

        return new FunctionHostOptions
        {
            Target = flags.GetValueOrDefault("target") ?? Env(KfciEnvironment.FunctionTarget),
            Port = ParsePort(flags.GetValueOrDefault("port") ?? Env(KfciEnvironment.Port)),
            BindAddress = ParseBindAddress(Env(KfciEnvironment.BindAddress), inCloud: Env(KfciEnvironment.CloudRunService) is not null),
            MaxRequestBytes = ParseMaxRequestBytes(Env(KfciEnvironment.MaxRequestBytes)),
            PushAudience = Env(KfciEnvironment.PushAudience),
            PushServiceAccount = Env(KfciEnvironment.PushServiceAccount),
            OnCloudRun = Env(KfciEnvironment.CloudRunService) is not null,
            LogFormat = ParseLogFormat(Env(KfciEnvironment.LogFormat), stdoutIsTerminal),
            Project = Env(KfciEnvironment.Project) ?? Env(KfciEnvironment.GoogleCloudProject),
        };
    }

    /// <summary>
    /// Throws <see cref="FunctionHostConfigurationException"/> for settings the host must not run with: on Cloud Run, a
    /// host without push authentication would serve anyone Cloud Run lets through, so it refuses to start instead.
    /// </summary>
    public void Validate()
    {
        if (!OnCloudRun || (PushAudience is not null && PushServiceAccount is not null))
        {
            return;
        }

        var missing = PushAudience is null && PushServiceAccount is null ? $"{KfciEnvironment.PushAudience} and {KfciEnvironment.PushServiceAccount} are"
            : PushAudience is null ? $"{KfciEnvironment.PushAudience} is"
            : $"{KfciEnvironment.PushServiceAccount} is";
        throw new FunctionHostConfigurationException(
            $"on Cloud Run ({KfciEnvironment.CloudRunService} is set) pushes must be authenticated, but {missing} not set: "
            + "give the push subscriptions' OIDC audience and service account");
    }

    private static Dictionary<string, string> ParseFlags(IReadOnlyList<string> args)
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        var positional = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(arg);
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? arg[2..equals] : arg[2..];
            if (name is not ("target" or "port"))
            {
                throw new FunctionHostConfigurationException($"unknown flag --{name}; the host accepts --target NAME and --port N");
            }

            flags[name] = equals > 0 ? arg[(equals + 1)..]
                : i + 1 < args.Count ? args[++i]
                : throw new FunctionHostConfigurationException($"flag {arg} needs a value");
        }

        // The Functions Framework also takes the target as a lone argument.
        if (positional.Count == 1 && !flags.ContainsKey("target"))
        {
            flags["target"] = positional[0];
        }
        else if (positional.Count > 1)
        {
            throw new FunctionHostConfigurationException($"unexpected arguments: {string.Join(' ', positional)}");
        }

        return flags;
    }

    private static int ParsePort(string? text) =>
        text is null ? DefaultPort
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= IPEndPoint.MaxPort ? port
        : throw new FunctionHostConfigurationException($"{KfciEnvironment.Port} (or --port) must be a TCP port number, not '{text}'");

    private static IPAddress ParseBindAddress(string? text, bool inCloud) =>
        text is null ? (inCloud ? IPAddress.Any : IPAddress.Loopback)
        : IPAddress.TryParse(text, out var address) ? address
        : throw new FunctionHostConfigurationException($"{KfciEnvironment.BindAddress} must be an IP address such as 127.0.0.1 or 0.0.0.0, not '{text}'");

    private static long ParseMaxRequestBytes(string? text) =>
        text is null ? DefaultMaxRequestBytes
        : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes > 0 ? bytes
        : throw new FunctionHostConfigurationException($"{KfciEnvironment.MaxRequestBytes} must be a positive number of bytes, not '{text}'");

    private static LogFormat ParseLogFormat(string? text, bool stdoutIsTerminal) => text?.ToLowerInvariant() switch
    {
        null => stdoutIsTerminal ? LogFormat.Text : LogFormat.Json,
        "json" => LogFormat.Json,
        "text" => LogFormat.Text,
        _ => throw new FunctionHostConfigurationException($"{KfciEnvironment.LogFormat} must be 'json' or 'text', not '{text}'"),
    };
}

/// <summary>The host is misconfigured; the message says what to set. The host logs it and exits non-zero at start-up.</summary>
public sealed class FunctionHostConfigurationException : Exception
{
    public FunctionHostConfigurationException()
    {
    }

    public FunctionHostConfigurationException(string message)
        : base(message)
    {
    }

    public FunctionHostConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
