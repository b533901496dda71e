namespace Kfci.Testing.Kubernetes;

/// <summary>A resource type the fake serves, as the API server's discovery would describe it.</summary>
public sealed record FakeResource(string Group, string Version, string Plural, string Kind, bool Namespaced)
{
    public static FakeResource Workflows { get; } = new("argoproj.io", "v1alpha1", "workflows", "Workflow", Namespaced: true) { IsCustomResource = true };

    public static FakeResource Pods { get; } = new("", "v1", "pods", "Pod", Namespaced: true);

    public static FakeResource Events { get; } = new("", "v1", "events", "Event", Namespaced: true);

    public static FakeResource Namespaces { get; } = new("", "v1", "namespaces", "Namespace", Namespaced: false);

    public static IReadOnlyList<FakeResource> All { get; } = [Workflows, Pods, Events, Namespaces];

    /// <summary>Defined by a CRD: bodies are decoded as unstructured JSON, so they must carry apiVersion and kind.</summary>
    public bool IsCustomResource { get; init; }

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>How the API server names the resource in messages: <c>workflows.argoproj.io</c>, <c>pods</c>.</summary>
    public string QualifiedName => Group.Length == 0 ? Plural : $"{Plural}.{Group}";
}
