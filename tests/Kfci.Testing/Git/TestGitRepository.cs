using System.Diagnostics;

namespace Kfci.Testing.Git;

/// <summary>
/// A real git repository in a temporary directory for tests: write files, commit, branch, merge, clone. Commits are
/// made with fixed identities so the test needs no git configuration of the machine.
/// </summary>
public sealed class TestGitRepository : IDisposable
{
    private readonly bool _owned;

    private TestGitRepository(string directory, bool owned)
    {
        Directory = directory;
        _owned = owned;
    }

    public string Directory { get; }

    /// <summary>A new empty repository whose first branch is <c>master</c>.</summary>
    public static TestGitRepository Create(string? directory = null)
    {
        var owned = directory is null;
        directory ??= System.IO.Directory.CreateTempSubdirectory("kfci-git-").FullName;
        System.IO.Directory.CreateDirectory(directory);
        var repository = new TestGitRepository(directory, owned);
        repository.Git("init", "--quiet", "--initial-branch=master");

        // Lets clones fetch any commit by sha, as GitHub does.
        repository.Git("config", "uploadpack.allowAnySHA1InWant", "true");
        return repository;
    }

    /// <summary>Clones <paramref name="source"/> (through file://, so <c>--depth</c> is honoured) into a new temporary directory.</summary>
    public static TestGitRepository Clone(TestGitRepository source, params string[] options)
    {
        ArgumentNullException.ThrowIfNull(source);
        var directory = System.IO.Directory.CreateTempSubdirectory("kfci-clone-").FullName;
        Run(Path.GetTempPath(), ["clone", "--quiet", .. options, new Uri(source.Directory).AbsoluteUri, directory]);
        return new TestGitRepository(directory, owned: true);
    }

    public void Write(string path, string content)
    {
        var full = Path.Combine(Directory, path);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
    }

    public void Write(string path, byte[] content)
    {
        var full = Path.Combine(Directory, path);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, content);
    }

    /// <summary>Stages everything and commits; returns the new commit's sha.</summary>
    public string Commit(string message = "change")
    {
        Git("add", "--all");
        Git("commit", "--quiet", "--allow-empty", "-m", message);
        return Head();
    }

    public string Head() => Git("rev-parse", "HEAD").Trim();

    public string Git(params string[] arguments) => Run(Directory, arguments);

    public void Dispose()
    {
        if (_owned)
        {
            DeleteTree(Directory);
        }
    }

    private static string Run(string directory, string[] arguments)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] identity = ["-c", "user.name=kfci test", "-c", "user.email=test@kfci.invalid", "-c", "commit.gpgsign=false", "-c", "protocol.file.allow=always"];
        foreach (var argument in identity.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0
            ? stdout
            : throw new InvalidOperationException($"git {string.Join(' ', arguments)} failed: {stderr.Result}");
    }

    // Git marks pack files read-only; clear that so the temporary tree can be deleted.
    private static void DeleteTree(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return;
        }

        foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            File.SetAttributes(file, FileAttributes.Normal);
        }

        System.IO.Directory.Delete(directory, recursive: true);
    }
}
