namespace Kfci.Testing;

/// <summary>
/// Directories for tests that run workflows on the local engine (a KFCI_HOME, the repositories it tests). Not under
/// /tmp: every step sees the host read-only with a private /tmp of its own, so a repository or NFS root under the
/// host's /tmp would be invisible to it.
/// </summary>
public static class StackDirectories
{
    public static string Create(string prefix)
    {
        var directory = Path.Combine("/var/tmp", "kfci-tests", prefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>
    /// Deletes a stack's directory. The stack's detached processes (engine, hosts, emulators) may still be closing files
    /// for a moment after <c>kfci local down</c> returns, so a directory that is not yet empty is tried again shortly.
    /// </summary>
    public static void Delete(string directory)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (IOException) when (attempt < 10)
            {
                Thread.Sleep(TimeSpan.FromMilliseconds(500));
            }
        }
    }
}
