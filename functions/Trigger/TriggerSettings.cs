using Kfci.Configuration;
using Kfci.PubSub;
using Kfci.Workflows;

namespace Kfci.Functions.Trigger;

/// <summary>The Trigger's settings, read once from the environment.</summary>
public sealed record TriggerSettings
{
    public string RunSubmittedTopic { get; init; } = KfciTopics.RunSubmitted;

    public string RunCompletedTopic { get; init; } = KfciTopics.RunCompleted;

    /// <summary>Argo UI base address for workflow links; null for no links.</summary>
    public string? ArgoUiUrl { get; init; }

    public WorkflowRenderOptions Render { get; init; } = new();

    /// <summary>How long a run may take from submission; also the workflows' default <c>activeDeadlineSeconds</c>.</summary>
    public TimeSpan RunDeadline => TimeSpan.FromSeconds(Render.ActiveDeadlineSeconds);

    /// <exception cref="InvalidOperationException">A setting is malformed.</exception>
    public static TriggerSettings FromEnvironment(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        return new TriggerSettings
        {
            RunSubmittedTopic = NonEmpty(getEnv(KfciEnvironment.RunSubmittedTopic)) ?? KfciTopics.RunSubmitted,
            RunCompletedTopic = NonEmpty(getEnv(KfciEnvironment.RunCompletedTopic)) ?? KfciTopics.RunCompleted,
            ArgoUiUrl = NonEmpty(getEnv(KfciEnvironment.ArgoUiUrl))?.TrimEnd('/'),
            Render = WorkflowRenderOptions.FromEnvironment(getEnv),
        };
    }

    /// <summary>kubeflow's link form: <c>{ui}/workflows/{namespace}/{name}?tab=workflow</c>.</summary>
    public string? UiLink(string ns, string name) =>
        ArgoUiUrl is null ? null : $"{ArgoUiUrl}/workflows/{Uri.EscapeDataString(ns)}/{Uri.EscapeDataString(name)}?tab=workflow";

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
