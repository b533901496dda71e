namespace Kfci.Testing.Kubernetes;

/// <summary>A resource type the fake serves, as the API server's discovery would describe it.</summary>
public sealed record FakeResource(string Group, string Version, string Plural, string Kind, bool Namespaced)
{
    private static readonly string[] s_metadataFields = ["metadata.name", "metadata.namespace"];

    // A custom resource can be selected by metadata.name and metadata.namespace only (unless its CRD declares
    // selectableFields, which Argo's does not); built-in types by the fields their registry indexes.
    public static FakeResource Workflows { get; } = new("argoproj.io", "v1alpha1", "workflows", "Workflow", Namespaced: true) { IsCustomResource = true };

    public static FakeResource Pods { get; } = new("", "v1", "pods", "Pod", Namespaced: true)
    {
        SelectableFields = [.. s_metadataFields, "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"],
    };

    public static FakeResource Events { get; } = new("", "v1", "events", "Event", Namespaced: true)
    {
        SelectableFields =
        [
            .. s_metadataFields, "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
            "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
        ],
    };

    public static FakeResource Namespaces { get; } = new("", "v1", "namespaces", "Namespace", Namespaced: false) { SelectableFields = ["metadata.name", "status.phase"] };

    public static IReadOnlyList<FakeResource> All { get; } = [Workflows, Pods, Events, Namespaces];

    /// <summary>Defined by a CRD: bodies are decoded as unstructured JSON, so they must carry apiVersion and kind.</summary>
    public bool IsCustomResource { get; init; }

    /// <summary>The fields a <c>fieldSelector</c> may name; others are a 400.</summary>
    public IReadOnlyCollection<string> SelectableFields { get; init; } = s_metadataFields;

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>How the API server names the resource in messages: <c>workflows.argoproj.io</c>, <c>pods</c>.</summary>
    public string QualifiedName => Group.Length == 0 ? Plural : $"{Plural}.{Group}";
}
