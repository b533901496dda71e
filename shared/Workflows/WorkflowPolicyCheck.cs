using System.Text.Json.Nodes;

namespace Kfci.Workflows;

/// <summary>
/// Finds what a workflow asks for beyond its policy. The whole object is walked, not only the fields kfci knows of,
/// so inline templates, <c>templateDefaults</c>, hooks, sidecars and init containers are held to the same rules.
/// Labels and annotations are skipped: their keys are free text, not pod fields.
/// </summary>
internal static class WorkflowPolicyCheck
{
    /// <summary>The Linux capabilities Pod Security's baseline level allows a container to add.</summary>
    private static readonly HashSet<string> s_baselineCapabilities = new(StringComparer.Ordinal)
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    };

    /// <summary>One line per field the policy refuses, in document order; empty when the workflow may run.</summary>
    public static IReadOnlyList<string> Violations(JsonObject workflow, WorkflowPrivileges allowed, string serviceAccount)
    {
        var found = new List<string>();
        Walk(workflow, "", allowed, serviceAccount, found);
        return found;
    }

    private static void Walk(JsonNode? node, string path, WorkflowPrivileges allowed, string serviceAccount, List<string> found)
    {
        switch (node)
        {
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Walk(array[i], $"{path}[{i}]", allowed, serviceAccount, found);
                }

                break;
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    var where = path.Length == 0 ? key : $"{path}.{key}";
                    if (key is "labels" or "annotations" || value is null)
                    {
                        continue;
                    }

                    Check(key, value, where, allowed, serviceAccount, found);
                    Walk(value, where, allowed, serviceAccount, found);
                }

                break;
        }
    }

    private static void Check(string key, JsonNode value, string where, WorkflowPrivileges allowed, string serviceAccount, List<string> found)
    {
        void Refuse(WorkflowPrivileges privilege, string what)
        {
            if (!allowed.HasFlag(privilege))
            {
                found.Add($"{where}: {what} (needs '{WorkflowPolicy.NameOf(privilege)}')");
            }
        }

        switch (key)
        {
            case "serviceAccountName" when value is not JsonValue || value.ToString() != serviceAccount:
                found.Add($"{where}: workflows run as service account '{serviceAccount}', not '{value.ToJsonString()}'");
                break;
            case "hostNetwork" or "hostPID" or "hostIPC" when IsSet(value):
                Refuse(WorkflowPrivileges.HostNamespaces, "the host's namespaces");
                break;
            case "hostPath":
                Refuse(WorkflowPrivileges.HostPath, "a host directory");
                break;
            case "podSpecPatch":
                Refuse(WorkflowPrivileges.PodSpecPatch, "a pod spec patch, which can set any pod field");
                break;
            case "resource" when value is JsonObject:
                Refuse(WorkflowPrivileges.ResourceTemplates, "a resource template, which creates Kubernetes objects as the workflow's account");
                break;
            case "templateRef" or "workflowTemplateRef" when value is JsonObject reference:
                Refuse(WorkflowPrivileges.ClusterTemplates, IsSet(reference["clusterScope"])
                    ? "a ClusterWorkflowTemplate, which the repository does not contain"
                    : "a WorkflowTemplate outside the workflow file");
                break;
            case "securityContext" when value is JsonObject context:
                foreach (var escalation in Escalations(context))
                {
                    Refuse(WorkflowPrivileges.Privileged, escalation);
                }

                break;
        }
    }

    /// <summary>What a security context asks for beyond Pod Security's baseline (running as root alone is not an escalation).</summary>
    private static IEnumerable<string> Escalations(JsonObject context)
    {
        if (IsSet(context["privileged"]))
        {
            yield return "a privileged container";
        }

        if (IsSet(context["allowPrivilegeEscalation"]))
        {
            yield return "allowPrivilegeEscalation";
        }

        if (context["capabilities"]?["add"] is JsonArray added && added.Any(c => c is not JsonValue v || !s_baselineCapabilities.Contains(v.ToString())))
        {
            yield return $"added capabilities {added.ToJsonString()}";
        }

        if (context["procMount"] is JsonValue procMount && procMount.ToString() != "Default")
        {
            yield return "an unmasked /proc";
        }

        if (context["seccompProfile"]?["type"] is JsonValue seccomp && seccomp.ToString() == "Unconfined")
        {
            yield return "no seccomp profile";
        }

        if (IsSet(context["windowsOptions"]?["hostProcess"]))
        {
            yield return "a Windows host process";
        }
    }

    /// <summary>Anything but an explicit false or null counts: Kubernetes would refuse a non-boolean, Argo may substitute a string.</summary>
    private static bool IsSet(JsonNode? value) => value switch
    {
        null => false,
        JsonValue v when v.TryGetValue<bool>(out var flag) => flag,
        JsonValue v => !string.Equals(v.ToString(), "false", StringComparison.OrdinalIgnoreCase),
        _ => true,
    };
}
