using Kfci.Cli.CommandLine;
using Kfci.Configuration;
using Kfci.Prow;
using Kfci.Runs;
using Kfci.Storage;

namespace Kfci.Cli.OnCall;

/// <summary>
/// A run's logs as the Uploader stored them: <c>build-log.txt</c> and <c>artifacts/logs/&lt;workflow&gt;/&lt;step&gt;.log</c>
/// under the run's results directory in the results store.
/// </summary>
public sealed class RunLogs(CliContext context, RunRecord run)
{
    public const string BuildLog = "build-log.txt";

    /// <summary>The run's directory in the store: from its results path, else where Prow's layout puts it.</summary>
    public string Prefix { get; } = PrefixOf(run, context.GetEnv);

    public async Task WriteAsync(string? workflow, string? step, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (workflow is null && step is null)
        {
            await CopyAsync($"{Prefix}/{BuildLog}", output, header: false, cancellationToken);
            return;
        }

        var workflows = workflow is null ? run.Workflows.Select(w => w.Name).ToList() : [workflow];
        if (workflow is not null && run.Workflow(workflow) is null)
        {
            throw new CliException($"run {run.RunId} has no workflow {workflow} (it has: {string.Join(", ", run.Workflows.Select(w => w.Name))})");
        }

        var found = 0;
        foreach (var name in workflows)
        {
            var directory = $"{Prefix}/artifacts/logs/{name}/";
            await foreach (var entry in context.Results.ListAsync(directory, null, cancellationToken))
            {
                var stepName = Path.GetFileNameWithoutExtension(entry.Name[directory.Length..]);
                if (entry.IsPrefix || !entry.Name.EndsWith(".log", StringComparison.Ordinal) || (step is not null && stepName != step))
                {
                    continue;
                }

                found++;
                await CopyAsync(entry.Name, output, header: step is null || workflow is null, cancellationToken);
            }
        }

        if (found == 0)
        {
            var what = step is null ? $"step logs of {workflow}" : $"log of step {step}";
            throw new CliException($"no {what} under {context.ResultsForPeople(context.Results.Describe(Prefix) + "/artifacts/logs/")} (run state {run.State.ToWire()}: the Uploader writes them when the run completes)");
        }
    }

    private async Task CopyAsync(string path, TextWriter output, bool header, CancellationToken cancellationToken)
    {
        await using var stream = await context.Results.OpenReadAsync(path, cancellationToken)
            ?? throw new CliException($"no {Path.GetFileName(path)} at {context.ResultsForPeople(context.Results.Describe(path))} (run state {run.State.ToWire()}: the Uploader writes it when the run completes)");
        if (header)
        {
            await output.WriteLineAsync($"==> {path} <==");
        }

        using var reader = new StreamReader(stream);
        var buffer = new char[16 * 1024];
        int read;
        while ((read = await reader.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        await output.FlushAsync(cancellationToken);
    }

    /// <summary>The store-relative directory of a run (<see cref="RunResultsLocation.PrefixOf"/>).</summary>
    public static string PrefixOf(RunRecord run, Func<string, string?> getEnv)
    {
        try
        {
            return RunResultsLocation.PrefixOf(run, getEnv);
        }
        catch (FormatException e)
        {
            throw new CliException(e.Message);
        }
    }
}
