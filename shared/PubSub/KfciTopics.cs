namespace Kfci.PubSub;

/// <summary>
/// The topic ids of kfci's event chain (see ARCHITECTURE.md), as Terraform creates them. The functions
/// read their output topics from configuration (<see cref="Configuration.KfciEnvironment"/>); these are
/// the defaults and what the local run and the tests create.
/// </summary>
public static class KfciTopics
{
    /// <summary>Prow job events (crier, or on-call via gcloud); consumed by the Trigger.</summary>
    public const string ProwEvents = "prow-events";

    /// <summary><c>run.submitted</c>: the Trigger created a run's workflows.</summary>
    public const string RunSubmitted = "run-submitted";

    /// <summary><c>run.completed</c>: the Watcher saw every workflow of a run finish.</summary>
    public const string RunCompleted = "run-completed";

    /// <summary><c>run.finished</c>: the Uploader wrote the run's results, for any consumer.</summary>
    public const string RunFinished = "run-finished";

    /// <summary>Kubernetes events of Argo workflows (log sink); consumed by the Watcher.</summary>
    public const string ArgoEvents = "argo-events";

    /// <summary>Cloud Scheduler ticks that make the Watcher reconcile runs it may have missed.</summary>
    public const string WatcherTicks = "watcher-ticks";

    /// <summary>Cloud Scheduler ticks that start a Janitor sweep.</summary>
    public const string JanitorTicks = "janitor-ticks";

    /// <summary>Where every subscription sends messages its function failed on too often.</summary>
    public const string DeadLetter = "kfci-dead-letter";

    /// <summary>All of the above, for set-up code that creates them.</summary>
    public static IReadOnlyList<string> All { get; } =
        [ProwEvents, RunSubmitted, RunCompleted, RunFinished, ArgoEvents, WatcherTicks, JanitorTicks, DeadLetter];
}
