using System.Globalization;
using Kfci.Configuration;
using Kfci.PubSub;

namespace Kfci.Functions.Watcher;

/// <summary>The Watcher's settings, read from the environment once at start-up. Immutable.</summary>
public sealed record WatcherSettings
{
    public const string DefaultNamespace = "kubeflow-test-infra";

    public const int DefaultDeadlineMinutes = 180;

    /// <summary>Where kfci's workflows run (<c>KFCI_WORKFLOW_NAMESPACE</c>).</summary>
    public string Namespace { get; init; } = DefaultNamespace;

    /// <summary>How long a run may take from its start when it has no deadline of its own (<c>KFCI_RUN_DEADLINE_MINUTES</c>).</summary>
    public TimeSpan RunDeadline { get; init; } = TimeSpan.FromMinutes(DefaultDeadlineMinutes);

    /// <summary>Topic of <c>run.completed</c> (<c>KFCI_TOPIC_RUN_COMPLETED</c>).</summary>
    public string RunCompletedTopic { get; init; } = KfciTopics.RunCompleted;

    /// <summary>
    /// A run still Completed (not Finished) this long after its last change gets <c>run.completed</c> again: the first
    /// message may have been lost, and the Uploader is idempotent.
    /// </summary>
    public TimeSpan RepublishAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A run still in Planning this long after its last change is stranded: the event that started it was given up
    /// (dead-lettered) part way through. Well past Pub/Sub's redelivery of a failing event, so a Trigger still
    /// retrying it is not overtaken.
    /// </summary>
    public TimeSpan StrandedAfter { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Runs a tick works on at once (Firestore transactions, cluster calls).</summary>
    public int Parallelism { get; init; } = 8;

    /// <summary>Runs per Firestore page in a tick.</summary>
    public int PageSize { get; init; } = 300;

    /// <exception cref="InvalidOperationException">A setting is invalid; the message names the variable.</exception>
    public static WatcherSettings Read(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        var settings = new WatcherSettings();
        if (NonEmpty(getEnv(KfciEnvironment.WorkflowNamespace)) is { } ns)
        {
            settings = settings with { Namespace = ns };
        }

        if (NonEmpty(getEnv(KfciEnvironment.RunCompletedTopic)) is { } topic)
        {
            try
            {
                PubSubNames.ValidateId(topic, KfciEnvironment.RunCompletedTopic);
            }
            catch (ArgumentException e)
            {
                throw new InvalidOperationException($"{KfciEnvironment.RunCompletedTopic}: {e.Message}", e);
            }

            settings = settings with { RunCompletedTopic = topic };
        }

        if (NonEmpty(getEnv(KfciEnvironment.RunDeadlineMinutes)) is { } minutes)
        {
            settings = int.TryParse(minutes, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
                ? settings with { RunDeadline = TimeSpan.FromMinutes(value) }
                : throw new InvalidOperationException($"{KfciEnvironment.RunDeadlineMinutes} must be a positive whole number of minutes, not '{minutes}'");
        }

        return settings;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
