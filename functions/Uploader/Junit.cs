using System.Globalization;
using System.Text;
using System.Xml;

namespace Kfci.Functions.Uploader;

/// <summary>
/// JUnit XML as Spyglass's junit lens and TestGrid read it: the report kfci synthesizes for a workflow (one test
/// case per Pod node), and the count of failures and errors in a report a test step wrote.
/// </summary>
public static class Junit
{
    private static readonly XmlWriterSettings s_write = new()
    {
        Encoding = new UTF8Encoding(false),
        Indent = true,
        Async = true,
        // Log text and messages may hold characters XML 1.0 cannot carry; replace them instead of failing.
        CheckCharacters = false,
    };

    private static readonly XmlReaderSettings s_read = new()
    {
        Async = true,
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreWhitespace = true,

        // A step writes its reports; a hostile or runaway one must not keep the Uploader reading for ever.
        MaxCharactersInDocument = MaxReportCharacters,
    };

    /// <summary>The largest junit report whose failures are counted; a larger one counts as one failure.</summary>
    public const long MaxReportCharacters = 16 * 1024 * 1024;

    /// <summary>
    /// Writes <c>&lt;testsuite name="suite"&gt;</c> with a test case per step: Failed nodes carry a <c>&lt;failure&gt;</c>,
    /// Error nodes an <c>&lt;error&gt;</c>, both with the node's message; a step whose log was lost says so in
    /// <c>&lt;system-out&gt;</c>. Suite and class are <paramref name="suiteName"/> (the <c>prow_config.yaml</c> entry's
    /// test target or name) and test names the steps' display names (<see cref="StableTestName"/>), so TestGrid sees the
    /// same rows in every build; the per-build workflow name appears only in the failure text.
    /// </summary>
    public static async Task WriteAsync(Stream output, string suiteName, string workflowName, IReadOnlyList<WorkflowStep> steps, IReadOnlyDictionary<string, string> unavailableLogs)
    {
        ArgumentNullException.ThrowIfNull(suiteName);
        ArgumentNullException.ThrowIfNull(workflowName);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(steps);
        ArgumentNullException.ThrowIfNull(unavailableLogs);
        await using var writer = XmlWriter.Create(output, s_write);
        await writer.WriteStartDocumentAsync();
        await writer.WriteStartElementAsync(null, "testsuite", null);
        await writer.WriteAttributeStringAsync(null, "name", null, Clean(suiteName));
        await writer.WriteAttributeStringAsync(null, "tests", null, Number(steps.Count));
        await writer.WriteAttributeStringAsync(null, "failures", null, Number(steps.Count(s => s.Phase == "Failed")));
        await writer.WriteAttributeStringAsync(null, "errors", null, Number(steps.Count(s => s.Phase == "Error")));
        await writer.WriteAttributeStringAsync(null, "skipped", null, Number(steps.Count(IsSkipped)));
        await writer.WriteAttributeStringAsync(null, "time", null, Seconds(steps.Sum(s => s.Seconds)));
        foreach (var step in steps)
        {
            await writer.WriteStartElementAsync(null, "testcase", null);
            await writer.WriteAttributeStringAsync(null, "classname", null, Clean(suiteName));
            await writer.WriteAttributeStringAsync(null, "name", null, Clean(StableTestName(workflowName, step.DisplayName)));
            await writer.WriteAttributeStringAsync(null, "time", null, Seconds(step.Seconds));
            var outcome = step.Phase switch
            {
                "Failed" => "failure",
                "Error" => "error",
                _ when IsSkipped(step) => "skipped",
                _ => null,
            };
            if (outcome is not null)
            {
                var message = Clean(step.Message ?? $"step {step.Phase.ToLowerInvariant()}");
                await writer.WriteStartElementAsync(null, outcome, null);
                await writer.WriteAttributeStringAsync(null, "message", null, message);
                if (outcome != "skipped")
                {
                    await writer.WriteStringAsync(Clean($"{step.NodeName} ({step.PodName}): {message}"));
                }

                await writer.WriteEndElementAsync();
            }

            if (unavailableLogs.TryGetValue(step.NodeId, out var why))
            {
                await writer.WriteElementStringAsync(null, "system-out", null, Clean($"log unavailable: {why}"));
            }

            await writer.WriteEndElementAsync();
        }

        await writer.WriteEndElementAsync();
        await writer.WriteEndDocumentAsync();
    }

    /// <summary>
    /// A step's test name, the same in every build: its display name, except that Argo names the exit handler (and the
    /// workflow's own node) after the per-build workflow (<c>wf-1ac7ffe-2446.onExit</c>), whose name is dropped
    /// (<c>onExit</c>).
    /// </summary>
    public static string StableTestName(string workflowName, string displayName)
    {
        ArgumentNullException.ThrowIfNull(workflowName);
        ArgumentNullException.ThrowIfNull(displayName);
        if (displayName == workflowName)
        {
            return "workflow";
        }

        return displayName.StartsWith(workflowName + ".", StringComparison.Ordinal) ? displayName[(workflowName.Length + 1)..] : displayName;
    }

    /// <summary>
    /// Failures plus errors a report holds: the larger of what its root (or its top-level suites) declare and the
    /// <c>&lt;failure&gt;</c>/<c>&lt;error&gt;</c> elements it contains. Streams; never loads the document.
    /// </summary>
    /// <exception cref="XmlException">Not well-formed XML.</exception>
    public static async Task<int> CountFailuresAsync(Stream report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var reader = XmlReader.Create(report, s_read);
        var declared = 0;
        var rootDeclares = false;
        var elements = 0;
        var root = true;
        while (await reader.ReadAsync())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (reader.NodeType != XmlNodeType.Element)
            {
                continue;
            }

            if (root)
            {
                root = false;
                rootDeclares = reader.GetAttribute("failures") is not null || reader.GetAttribute("errors") is not null;
                declared += Attribute(reader, "failures") + Attribute(reader, "errors");
            }
            else if (!rootDeclares && reader.Depth == 1 && reader.LocalName == "testsuite")
            {
                declared += Attribute(reader, "failures") + Attribute(reader, "errors");
            }
            else if (reader.LocalName is "failure" or "error")
            {
                elements++;
            }
        }

        return Math.Max(declared, elements);
    }

    /// <summary>Whether a file name is a junit report by Spyglass's rule (<c>^artifacts/junit.*\.xml$</c>, on the base name).</summary>
    public static bool IsReportName(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        return fileName.StartsWith("junit", StringComparison.Ordinal) && fileName.EndsWith(".xml", StringComparison.Ordinal);
    }

    private static bool IsSkipped(WorkflowStep step) => step.Phase is "Skipped" or "Omitted";

    private static int Attribute(XmlReader reader, string name) =>
        int.TryParse(reader.GetAttribute(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 0;

    private static string Number(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(double seconds) => seconds.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>Drops characters XML 1.0 forbids (control characters, lone surrogates); escaping is the writer's job.</summary>
    private static string Clean(string text)
    {
        if (text.All(XmlConvert.IsXmlChar))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (XmlConvert.IsXmlChar(text[i]))
            {
                builder.Append(text[i]);
            }
            else if (i + 1 < text.Length && XmlConvert.IsXmlSurrogatePair(text[i + 1], text[i]))
            {
                builder.Append(text, i++, 2);
            }
            else
            {
                builder.Append('\uFFFD');
            }
        }

        return builder.ToString();
    }
}
