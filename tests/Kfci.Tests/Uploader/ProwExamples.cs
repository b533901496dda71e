using System.Text.Json;

namespace Kfci.Tests.Uploader;

/// <summary>
/// <c>started.json</c> and <c>finished.json</c> as Prow writes them (testgrid <c>metadata/job.go</c>; the examples in
/// shared/reference/prow-boskos-argo-facts.md §4, from a real kubernetes build): the field names and JSON types kfci's must match.
/// </summary>
internal static class ProwExamples
{
    public static JsonElement Started { get; } = JsonDocument.Parse("""
        {"timestamp": 1595277241, "node": "", "pull": "93264",
         "repos": {"kubernetes/kubernetes": "master:5feab0aa,93264:5dd9241d"},
         "repo-commit": "5dd9241d", "repo-version": "5dd9241d",
         "job-version": "", "metadata": {}}
        """).RootElement;

    public static JsonElement Finished { get; } = JsonDocument.Parse("""
        {"timestamp": 1595279434, "passed": true, "result": "SUCCESS",
         "revision": "5dd9241d", "metadata": {"sidecar-errors": {}},
         "job-version": "", "repo-version": ""}
        """).RootElement;
}
