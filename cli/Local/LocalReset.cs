namespace Kfci.Cli.Local;

/// <summary>
/// <c>kfci local reset</c>: stops the stack and deletes the state kfci keeps in KFCI_HOME, and nothing else there
/// (KFCI_HOME may be a directory the user also keeps other things in).
/// </summary>
public static class LocalReset
{
    /// <summary>KFCI_HOME's entries that kfci writes; the engine's directory holds workflows, pod logs and events.</summary>
    private static readonly string[] s_owned = ["firestore", "results", "repos", "nfs", "logs", "engine", LocalStackState.FileName];

    /// <summary>Asks on the terminal; refuses (with how to skip the question) when nobody can answer.</summary>
    public static async Task<bool> ConfirmAsync(KfciPaths paths, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(output);
        if (Console.IsInputRedirected)
        {
            await Console.Error.WriteLineAsync("kfci: local reset deletes every run, sweep, rejection and result in " + paths.Home + "; pass --yes to confirm");
            return false;
        }

        await output.WriteAsync($"Delete every run, sweep, rejection, result and log kept in {paths.Home}? [y/N] ");
        var answer = Console.ReadLine()?.Trim();
        return string.Equals(answer, "y", StringComparison.OrdinalIgnoreCase) || string.Equals(answer, "yes", StringComparison.OrdinalIgnoreCase);
    }

    public static void Run(KfciPaths paths, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(output);
        if (LocalStackState.Load(paths.Home) is { } state)
        {
            LocalChain.Down(state);
        }

        foreach (var entry in s_owned.Select(name => Path.Combine(paths.Home, name)))
        {
            if (Directory.Exists(entry))
            {
                Directory.Delete(entry, recursive: true);
            }
            else
            {
                File.Delete(entry);
            }
        }

        output.WriteLine($"The local stack is stopped and its state in {paths.Home} is gone; 'kfci local up' starts from nothing.");
    }
}
