namespace Kfci.Cli.Engine;

/// <summary>Where the local engine keeps its state and maps volumes, and how many steps it runs at once. Immutable.</summary>
public sealed record EngineOptions
{
    /// <summary>The claim every kfci workflow mounts at /mnt/test-data-volume (Kubeflow's shared NFS volume).</summary>
    public const string NfsClaim = "nfs-external";

    /// <summary>Workflows, pod logs, scripts and emptyDir volumes (<c>KFCI_HOME/engine</c>).</summary>
    public required string StateDirectory { get; init; }

    /// <summary>The host directory behind the <see cref="NfsClaim"/> claim (<c>KFCI_NFS_ROOT</c>, default <c>KFCI_HOME/nfs</c>).</summary>
    public required string NfsRoot { get; init; }

    /// <summary>Where other claims live: <c>&lt;PvcRoot&gt;/&lt;claim&gt;</c> (default <c>KFCI_HOME/pvc</c>).</summary>
    public required string PvcRoot { get; init; }

    /// <summary>Steps running at once across all workflows; the host's cores by default.</summary>
    public int MaxParallelSteps { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Workflow changes kept for watches that resume from a resourceVersion; a watch from an older one (or from before
    /// an engine restart, which keeps no history) gets 410 Expired, as from the API server after a compaction.
    /// </summary>
    public int WatchHistory { get; init; } = 5000;

    /// <summary>bubblewrap, which maps volumes to their mountPath; null when it is not installed (steps with volumes then fail, saying so).</summary>
    public string? Bubblewrap { get; init; } = StepProcess.FindBubblewrap();

    /// <summary>The options for a kfci home directory (<c>KFCI_HOME</c>), with the NFS root overridable.</summary>
    public static EngineOptions ForHome(string home, string? nfsRoot = null) => new()
    {
        StateDirectory = Path.Combine(home, "engine"),
        NfsRoot = string.IsNullOrEmpty(nfsRoot) ? Path.Combine(home, "nfs") : nfsRoot,
        PvcRoot = Path.Combine(home, "pvc"),
    };

    public string ClaimDirectory(string claim) => claim == NfsClaim ? NfsRoot : Path.Combine(PvcRoot, claim);
}
