using System.Diagnostics;
using System.Text.Json;

namespace Kfci.Tests.Infra;

/// <summary>
/// HashiCorp's own HCL parser (<c>@cdktf/hcl2json</c>, Go compiled to WebAssembly) behind one
/// long-lived node process (<c>tools/hcl2json.js --serve</c>): the parser warms up once, and each
/// further tree then takes a fraction of a second.
/// </summary>
internal sealed class HclParser : IDisposable
{
    private readonly Process _node;
    private readonly Lock _gate = new();

    /// <exception cref="InvalidOperationException">node or the parser package is not installed; the message says to run scripts/setup.sh.</exception>
    public HclParser(string repositoryRoot)
    {
        ArgumentNullException.ThrowIfNull(repositoryRoot);
        var tools = Path.Combine(repositoryRoot, "tools");
        if (!Directory.Exists(Path.Combine(tools, "node_modules", "@cdktf", "hcl2json")))
        {
            throw new InvalidOperationException(
                "the HCL parser is not installed (tools/node_modules/@cdktf/hcl2json is missing): run scripts/setup.sh");
        }

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = tools,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(tools, "hcl2json.js"));
        start.ArgumentList.Add("--serve");
        try
        {
            _node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"node (20 or later) is not on PATH ({e.Message}): run scripts/setup.sh", e);
        }
    }

    /// <summary>Parses every <c>.tf</c> file under <paramref name="directory"/>.</summary>
    /// <exception cref="InvalidOperationException">A file does not parse (the message names it and the parser's error) or the parser died.</exception>
    public TerraformTree Parse(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string? line;
        lock (_gate)
        {
            _node.StandardInput.WriteLine(Path.GetFullPath(directory));
            _node.StandardInput.Flush();
            line = _node.StandardOutput.ReadLine();
        }

        if (line is null)
        {
            throw new InvalidOperationException("the HCL parser (node tools/hcl2json.js) exited; run scripts/setup.sh and check node works");
        }

        using var answer = JsonDocument.Parse(line);
        var errors = answer.RootElement.GetProperty("errors").EnumerateObject().Select(e => $"{e.Name}: {e.Value.GetString()}").ToList();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"HCL parse errors in {directory}:\n{string.Join('\n', errors)}");
        }

        return TerraformTree.FromParserOutput(answer.RootElement.GetProperty("files").Clone());
    }

    public void Dispose()
    {
        _node.StandardInput.Close();
        if (!_node.WaitForExit(5000))
        {
            _node.Kill();
        }

        _node.Dispose();
    }
}
