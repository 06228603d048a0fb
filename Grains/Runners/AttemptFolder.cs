using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Backtesting.Grains.Runners;

/// <summary>
/// The host folder of one attempt (or one compile), which a worker container sees as /output. It is open to the
/// silo and the container's user only (mode 0700, never world-writable), and the silo treats what the worker
/// left in it as hostile: it never follows a link the worker planted there, in either direction, so a symbolic
/// link named checkpoint.json or results.json cannot make the silo (often root) read or overwrite a host file.
/// </summary>
public static class AttemptFolder
{
    /// <summary>The folder's mode: the owner only.</summary>
    public const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// The mode of the files the silo writes into the folder (config, source, checkpoint): readable by the
    /// container's user, who owns the folder but not these files. Nobody else can reach them through the folder.
    /// </summary>
    public const UnixFileMode SiloFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>How the folder is given to the container's user, seen from the silo's effective uid.</summary>
    public enum Ownership
    {
        /// <summary>The silo is root: it hands the folder to the container's uid:gid (and can still read it).</summary>
        GiveToContainerUser,

        /// <summary>The silo runs as the container's uid already: the folder is its own.</summary>
        AlreadyOwned,

        /// <summary>A non-root silo cannot give a folder away, and must not open it to everyone.</summary>
        Impossible,
    }

    public static Ownership PlanFor(uint siloUid, ContainerUser user) =>
        siloUid == 0 ? Ownership.GiveToContainerUser
        : siloUid == (uint)user.Uid ? Ownership.AlreadyOwned
        : Ownership.Impossible;

    /// <summary>Why this silo cannot run containers as <paramref name="user"/>, or null when it can.</summary>
    public static string? ProblemFor(ContainerUser user)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null; // Docker Desktop shares folders through its own VM, which maps owners itself
        }

        var uid = Native.geteuid();
        return PlanFor(uid, user) == Ownership.Impossible
            ? $"the silo runs as uid {uid}, not root, so it cannot give an attempt's folder to the container user {user} " +
              "without making it world-writable: run the silo as root, or set Backtesting:Docker:User to the silo's own uid:gid"
            : null;
    }

    /// <summary>Creates the folder (or closes an existing one) with <see cref="FolderMode"/>, owned by <paramref name="owner"/> when given.</summary>
    public static void Prepare(string path, ContainerUser? owner)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, FolderMode);
        File.SetUnixFileMode(path, FolderMode);
        if (owner is not { } user || !OperatingSystem.IsLinux())
        {
            return;
        }

        switch (PlanFor(Native.geteuid(), user))
        {
            case Ownership.GiveToContainerUser:
                if (Native.lchown(path, user.Uid, user.Gid) != 0)
                {
                    throw new IOException($"could not give {path} to {user}: errno {Marshal.GetLastPInvokeError()}");
                }

                break;
            case Ownership.Impossible:
                throw new RunnerUnavailableException(ProblemFor(user)!);
        }
    }

    /// <summary>Writes a file the worker will read, replacing whatever the folder held under that name (a link is removed, not followed).</summary>
    public static void WriteText(string path, string content)
    {
        using var stream = CreateExclusive(path);
        using var writer = new StreamWriter(stream);
        writer.Write(content);
    }

    /// <inheritdoc cref="WriteText"/>
    public static void WriteBytes(string path, byte[] content)
    {
        using var stream = CreateExclusive(path);
        stream.Write(content);
    }

    /// <summary>
    /// A fresh folder the silo owns inside an attempt folder, which the worker may read but not write (mode 0755; its files
    /// are written with <see cref="SiloFileMode"/>). Whatever held the name before (a folder a run left, a link, a file)
    /// is removed first, a link itself and never its target.
    /// </summary>
    public static void ReplaceReadOnlyFolder(string path)
    {
        var info = new DirectoryInfo(path);
        if (info.LinkTarget is not null || File.Exists(path))
        {
            File.Delete(path);
        }
        else if (info.Exists)
        {
            Directory.Delete(path, recursive: true); // removes links inside, never what they point to
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        const UnixFileMode readable = FolderMode | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        Directory.CreateDirectory(path, readable);
        File.SetUnixFileMode(path, readable);
    }

    /// <inheritdoc cref="WriteText"/>
    public static async Task WriteTextAsync(string path, string content, CancellationToken cancellation = default)
    {
        var stream = CreateExclusive(path);
        await using (stream.ConfigureAwait(false))
        {
            var writer = new StreamWriter(stream);
            await using (writer.ConfigureAwait(false))
            {
                await writer.WriteAsync(content.AsMemory(), cancellation).ConfigureAwait(false);
            }
        }
    }

    private static FileStream CreateExclusive(string path)
    {
        File.Delete(path); // deletes a link itself, never its target
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = SiloFileMode;
        }

        // CreateNew is O_CREAT|O_EXCL: should a link reappear in between, the call fails instead of following it.
        return new FileStream(path, options);
    }

    /// <summary>
    /// Opens a file the worker wrote, or null when there is none. A symbolic link, a FIFO, a device or a folder
    /// under that name is refused with an <see cref="IOException"/>: the silo reads only plain files of the folder.
    /// </summary>
    public static FileStream? OpenRead(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            throw new IOException($"{path} is a symbolic link, which the silo does not follow");
        }

        if (!info.Exists)
        {
            return Directory.Exists(path) ? throw new IOException($"{path} is a folder, not a file") : null;
        }

        if (!OperatingSystem.IsLinux())
        {
            return File.OpenRead(path);
        }

        // O_NOFOLLOW: a link swapped in after the check above is refused by the kernel; O_NONBLOCK: a FIFO cannot
        // block the silo's thread (it is refused below as not seekable).
        var fd = Native.open(path, Native.ReadOnly | Native.NoFollow | Native.NonBlock | Native.CloseOnExec);
        if (fd < 0)
        {
            throw new IOException($"{path} could not be opened as a plain file: errno {Marshal.GetLastPInvokeError()}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var stream = new FileStream(handle, FileAccess.Read);
            if (!stream.CanSeek)
            {
                stream.Dispose();
                throw new IOException($"{path} is not a plain file");
            }

            return stream;
        }
        catch (UnauthorizedAccessException e)
        {
            handle.Dispose();
            throw new IOException($"{path} is not a plain file", e);
        }
    }

    /// <summary>The text of a file the worker wrote (see <see cref="OpenRead"/>), or null when there is none.</summary>
    public static async Task<string?> ReadTextAsync(string path, CancellationToken cancellation = default)
    {
        var stream = OpenRead(path);
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream); // disposes the stream
        return await reader.ReadToEndAsync(cancellation).ConfigureAwait(false);
    }

    private static class Native
    {
        public const int ReadOnly = 0;
        public const int NonBlock = 0x800;
        public const int CloseOnExec = 0x80000;

        // O_NOFOLLOW differs between Linux architectures.
        public static readonly int NoFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;

        [DllImport("libc", SetLastError = true)]
        public static extern uint geteuid();

        [DllImport("libc", SetLastError = true)]
        public static extern int lchown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int owner, int group);

        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
    }
}
