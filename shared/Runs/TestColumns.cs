using System.Security.Cryptography;
using System.Text;
using Kfci.Firestore;

namespace Kfci.Runs;

/// <summary>
/// The compact form of a workflow's test summary that pages drawing many builds at once read (a job's grid, the
/// flakiness ranking): <c>runs/{runId}/columns/{workflowKey}</c> holds the identity, one character per case (in name
/// order) and the first failures' messages; the sorted case names live once per distinct list in
/// <c>testNames/{hash}-{part}</c>, which every build with the same tests shares. A grid of 200 builds × 1,000 tests then reads 200 small documents and
/// a few name lists, instead of 200,000 case maps.
/// </summary>
public static class TestColumns
{
    public const string Collection = "columns";

    public const string NamesCollection = "testNames";

    /// <summary>Names per name-list document: 900 × 256 characters × 4 bytes ≈ 0.92 MB, under Firestore's 1 MiB.</summary>
    public const int NamesPerDocument = 900;

    /// <summary>Failure messages a column keeps (the grid's tooltips), the first in name order; the full summary keeps them all.</summary>
    public const int MaxMessages = 100;

    private const char Passed = 'p';
    private const char Failed = 'f';
    private const char Skipped = 's';

    public static string ColumnPath(string runId, string workflow) =>
        $"{RunDocument.PathOf(runId)}/{Collection}/{TestSummaries.WorkflowKey(workflow)}";

    /// <summary>A content hash of the ordered names: equal lists, and only equal lists, share their documents.</summary>
    public static string NamesKey(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in names)
        {
            // Length-prefixed, so no choice of names (a pull request writes them) makes two lists hash alike by joining.
            hash.AppendData(Encoding.UTF8.GetBytes($"{name.Length}:{name}"));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..32];
    }

    public static string NamesPath(string key, int part) => $"{NamesCollection}/{key}-{part:D3}";

    public static int NameParts(int count) => Math.Max(1, (count + NamesPerDocument - 1) / NamesPerDocument);

    /// <summary>The documents that store <paramref name="summary"/> compactly: its name-list parts, then its column.</summary>
    public static IEnumerable<(string Path, Dictionary<string, object?> Fields)> Documents(WorkflowTestSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);

        // In name order (ties keep their order): steps that run in parallel start in another order in every build, and
        // the list must be the same for builds of the same tests to share it.
        var tests = summary.Tests.Select((t, i) => (t, i)).OrderBy(x => x.t.Name, StringComparer.Ordinal).ThenBy(x => x.i).Select(x => x.t).ToList();
        var names = tests.Select(t => t.Name).ToList();
        var key = NamesKey(names);
        var parts = NameParts(names.Count);
        for (var part = 0; part < parts; part++)
        {
            yield return (NamesPath(key, part), new Dictionary<string, object?>
            {
                ["count"] = names.Count,
                ["part"] = part,
                ["names"] = names.Skip(part * NamesPerDocument).Take(NamesPerDocument).Cast<object?>().ToList(),
            });
        }

        var column = TestSummaries.IdentityFields(summary);
        column["names"] = key;
        column["count"] = names.Count;
        column["results"] = string.Concat(tests.Select(t => Code(t.Result)));
        column["failures"] = tests
            .Select((t, i) => (t, i))
            .Where(x => x.t.Result == TestOutcomes.Fail && x.t.Message is not null)
            .Take(MaxMessages)
            .Select(x => (object?)new Dictionary<string, object?> { ["i"] = x.i, ["m"] = x.t.Message })
            .ToList();
        yield return (ColumnPath(summary.RunId, summary.Workflow), column);
    }

    /// <summary>The name-list key and case count a column document refers to.</summary>
    public static (string Key, int Count) NamesOf(FirestoreDocument column)
    {
        ArgumentNullException.ThrowIfNull(column);
        return (column.Get<string>("names"), column.Get<int>("count"));
    }

    /// <summary>A name-list part's names.</summary>
    public static IReadOnlyList<string> Names(FirestoreDocument part)
    {
        ArgumentNullException.ThrowIfNull(part);
        return [.. (part.TryGet<IReadOnlyList<object?>>("names", out var names) ? names : []).Select(n => n as string ?? "(unnamed)")];
    }

    /// <summary>
    /// The summary a column stands for, its cases in name order with results and the kept failure messages (no durations or logs); null
    /// when the names do not match the column (a name list is missing or from another write).
    /// </summary>
    public static WorkflowTestSummary? Summary(FirestoreDocument column, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(column);
        ArgumentNullException.ThrowIfNull(names);
        var results = column.TryGet<string>("results", out var r) ? r : "";
        if (results.Length != names.Count)
        {
            return null;
        }

        var messages = (column.TryGet<IReadOnlyList<object?>>("failures", out var failures) ? failures : [])
            .OfType<IReadOnlyDictionary<string, object?>>()
            .Where(f => f.TryGetValue("i", out var i) && i is long && f.TryGetValue("m", out var m) && m is string)
            .GroupBy(f => (long)f["i"]!)
            .ToDictionary(g => g.Key, g => (string)g.First()["m"]!);
        return TestSummaries.FromIdentity(column, [.. names.Select((name, i) => new TestCaseResult(name, Outcome(results[i]), 0, messages.GetValueOrDefault(i)))]);
    }

    private static char Code(string result) => result switch
    {
        TestOutcomes.Pass => Passed,
        TestOutcomes.Skip => Skipped,
        _ => Failed,
    };

    private static string Outcome(char code) => code switch
    {
        Passed => TestOutcomes.Pass,
        Skipped => TestOutcomes.Skip,
        _ => TestOutcomes.Fail,
    };
}
