using System.Globalization;
using System.Text.Json.Nodes;

namespace Kfci.Kubernetes;

/// <summary>Typed reads of the fields kfci uses from untyped Kubernetes objects; absent fields read as null.</summary>
public static class KubernetesObjects
{
    extension(JsonObject obj)
    {
        public string? Name => obj.MetadataString("name");

        public string? Namespace => obj.MetadataString("namespace");

        public string? ResourceVersion => obj.MetadataString("resourceVersion");

        public string? Uid => obj.MetadataString("uid");

        public DateTimeOffset? CreationTimestamp =>
            obj.MetadataString("creationTimestamp") is { } text
                ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)
                : null;

        /// <summary>The labels (empty when there are none); a copy, so changing it changes nothing.</summary>
        public IReadOnlyDictionary<string, string> Labels =>
            obj["metadata"]?["labels"] is JsonObject labels
                ? labels.Where(l => l.Value is JsonValue).ToDictionary(l => l.Key, l => l.Value!.GetValue<string>(), StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal);

        /// <summary>Argo's <c>status.phase</c> (Pending, Running, Succeeded, Failed, Error), or a pod's; null before the controller set it.</summary>
        public string? Phase => obj["status"]?["phase"] is JsonValue phase && phase.TryGetValue<string>(out var text) ? text : null;

        private string? MetadataString(string field) =>
            obj["metadata"]?[field] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
    }
}
