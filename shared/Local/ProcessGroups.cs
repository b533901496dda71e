using System.Runtime.InteropServices;

namespace Kfci.Local;

/// <summary>Signals whole process groups: emulators and function hosts are started as group leaders.</summary>
public static partial class ProcessGroups
{
    private const int SigTerm = 15;
    private const int SigKill = 9;

    public static bool IsAlive(int processId) => processId > 0 && Kill(processId, 0) == 0;

    /// <summary>SIGTERM to the group, then SIGKILL after a grace period if anything is left.</summary>
    public static void Terminate(int groupLeader, TimeSpan? grace = null)
    {
        if (groupLeader <= 0)
        {
            return;
        }

        _ = Kill(-groupLeader, SigTerm);
        var until = DateTime.UtcNow + (grace ?? TimeSpan.FromSeconds(3));
        while (DateTime.UtcNow < until && Kill(-groupLeader, 0) == 0)
        {
            Thread.Sleep(50);
        }

        _ = Kill(-groupLeader, SigKill);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
