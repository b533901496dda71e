using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kfci.Cli.Local;

/// <summary>What <c>kfci local up</c> started, saved under KFCI_HOME so later commands can find and stop it.</summary>
public sealed record LocalStackState
{
    public const string FileName = "local-stack.json";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public required string Project { get; init; }

    public required IReadOnlyList<LocalProcess> Processes { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    /// <summary>The Prow job configuration file the Trigger reads (<c>local up --prow-jobs</c>); null for none.</summary>
    public string? ProwJobs { get; init; }

    /// <summary>kfci's own periodics the scheduler runs (<c>local up --periodics</c>, Terraform's variables file); null for none.</summary>
    public string? Periodics { get; init; }

    /// <summary>The engine API's bearer token for this stack (<c>KFCI_CLUSTER_TOKEN</c>); the state file is readable by its owner only.</summary>
    public string? ClusterToken { get; init; }

    /// <summary>A fresh random token for a new stack.</summary>
    public static string NewClusterToken() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public LocalProcess? Find(string name) => Processes.FirstOrDefault(p => p.Name == name);

    public static LocalStackState? Load(string home)
    {
        var path = Path.Combine(home, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<LocalStackState>(File.ReadAllText(path), s_json);
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"{path} is not a kfci local-stack state file ({e.Message}); remove it and run 'kfci local up' again", e);
        }
    }

    public void Save(string home)
    {
        Directory.CreateDirectory(home);
        var path = Path.Combine(home, FileName);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, "");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.WriteAllText(temporary, JsonSerializer.Serialize(this, s_json));
        File.Move(temporary, path, overwrite: true);
    }

    public static void Delete(string home) => File.Delete(Path.Combine(home, FileName));
}

/// <summary>One process of the local stack: an emulator or a function host.</summary>
public sealed record LocalProcess(string Name, int ProcessId, int Port, string LogFile)
{
    [JsonIgnore]
    public string HostPort => $"127.0.0.1:{Port}";

    [JsonIgnore]
    public Uri Url => new($"http://{HostPort}/");
}
