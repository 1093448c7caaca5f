/* Test helper for tests/windows/run.sh, run under Wine; test scaffolding only, never shipped.
 *
 *   wintest run  <cmdline.txt>                       start the command line in the file (UTF-8, one line) exactly
 *                                                    as written, as FSRM does (CreateProcessW, no shell), and exit
 *                                                    with its exit code
 *   wintest hold <file> <none|read|readwrite|all> <cmdline.txt>
 *                                                    open <file> for reading and writing with that share mode (none:
 *                                                    deny everyone; read: let others read but not write or delete;
 *                                                    readwrite: no delete; all: share everything, as a program
 *                                                    written for POSIX does), then run the command line while
 *                                                    holding it; exit with its code
 *   wintest lock <file> <cmdline.txt>                hold an exclusive byte-range lock (LockFileEx) on the whole of
 *                                                    <file> (opened with full sharing) while running the command
 *   wintest stream-write <file:stream> <text>        write <text> to an alternate data stream
 *   wintest stream-read <file:stream>                print the stream's content
 *   wintest attrs <file>                             print R when read-only, H when hidden, T when temporary,
 *                                                    "-" for none of them
 *   wintest set-attrs <file> <R|H|RH|->              set those attributes (the others cleared)
 *   wintest junction <link> <target>                 make the (empty, existing) folder <link> a junction to the
 *                                                    folder <target> (FSCTL_SET_REPARSE_POINT); exit 20 when the
 *                                                    file system cannot (Wine 8)
 *   wintest reparse-tag <path>                       print the reparse tag of <path> in hex (0 for none)
 *   wintest rename-while <folder> <file> <cmdline.txt>
 *                                                    start the command line; from the moment its temporary file
 *                                                    appears beside <file> until it is gone (the run holds the file
 *                                                    and its folders), try to rename <folder> away and back again.
 *                                                    Prints "refused N renamed M (after the run let go: K)"; exits
 *                                                    with the command's code when every try while the file was held
 *                                                    was refused (and there was one), 22 when a rename got through
 *                                                    while it was held, 21 when the command never held the file
 *   wintest sddl-get <file>                          print the owner, group and DACL of <file> as SDDL
 *   wintest sddl-set <file> <sddl>                   set the DACL of <file> from SDDL (protected: not inherited)
 *
 * Exit codes: the child's, or 200 + n for a failure of the helper itself (printed to stderr). */
#include <windows.h>
#include <winioctl.h>
#include <aclapi.h>
#include <sddl.h>
#include <stdio.h>
#include <wchar.h>

static int fail(int code, const wchar_t *what, const wchar_t *arg)
{
    fwprintf(stderr, L"wintest: %ls %ls: error %lu\n", what, arg ? arg : L"", GetLastError());
    return 200 + code;
}

/* The first line of a UTF-8 file, as a wide string (caller frees). */
static wchar_t *read_line(const wchar_t *path)
{
    HANDLE h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return NULL;
    char buf[65536];
    DWORD got = 0;
    BOOL ok = ReadFile(h, buf, sizeof buf - 1, &got, NULL);
    CloseHandle(h);
    if (!ok)
        return NULL;
    DWORD start = (got >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
                   (unsigned char)buf[2] == 0xBF) ? 3 : 0;
    DWORD end = start;
    while (end < got && buf[end] != '\r' && buf[end] != '\n')
        end++;
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, buf + start, (int)(end - start), NULL, 0);
    wchar_t *line = HeapAlloc(GetProcessHeap(), 0, (n + 1) * sizeof(wchar_t));
    if (!line)
        return NULL;
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, buf + start, (int)(end - start), line, n);
    line[n] = 0;
    return line;
}

static int run_line(const wchar_t *cmdline_file)
{
    wchar_t *line = read_line(cmdline_file);
    if (!line)
        return fail(1, L"cannot read the command line in", cmdline_file);
    STARTUPINFOW si = { sizeof si };
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(NULL, line, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi))
        return fail(2, L"cannot start", line);
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 1;
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return (int)code;
}

/* Start the command line in the file without waiting for it. */
static BOOL start_line(const wchar_t *cmdline_file, PROCESS_INFORMATION *pi)
{
    wchar_t *line = read_line(cmdline_file);
    if (!line)
        return FALSE;
    STARTUPINFOW si = { sizeof si };
    return CreateProcessW(NULL, line, NULL, NULL, TRUE, 0, NULL, NULL, &si, pi);
}

/* True while the folder of <file> holds one of fci-connector's temporary files (.~fci-*.tmp): the run has opened
 * the file and every folder above it, and has not finished the swap. Listing the folder does not get in its way. */
static BOOL has_temp(const wchar_t *file)
{
    wchar_t pattern[MAX_PATH * 2];
    wcsncpy(pattern, file, MAX_PATH * 2 - 1);
    pattern[MAX_PATH * 2 - 1] = 0;
    wchar_t *slash = wcsrchr(pattern, L'\\');
    if (!slash)
        return FALSE;
    wcscpy(slash + 1, L".~fci-*.tmp");
    WIN32_FIND_DATAW found;
    HANDLE h = FindFirstFileW(pattern, &found);
    if (h == INVALID_HANDLE_VALUE)
        return FALSE;
    FindClose(h);
    return TRUE;
}

static HANDLE open_shared(const wchar_t *path, DWORD access, DWORD share)
{
    return CreateFileW(path, access, share, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
}

int wmain(int argc, wchar_t **argv)
{
    if (argc == 3 && !wcscmp(argv[1], L"run"))
        return run_line(argv[2]);

    if (argc == 5 && !wcscmp(argv[1], L"hold")) {
        DWORD share;
        if (!wcscmp(argv[3], L"none"))
            share = 0;
        else if (!wcscmp(argv[3], L"read"))
            share = FILE_SHARE_READ;
        else if (!wcscmp(argv[3], L"readwrite"))
            share = FILE_SHARE_READ | FILE_SHARE_WRITE;
        else if (!wcscmp(argv[3], L"all"))
            share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
        else
            return fail(3, L"unknown share mode", argv[3]);
        HANDLE h = open_shared(argv[2], GENERIC_READ | GENERIC_WRITE, share);
        if (h == INVALID_HANDLE_VALUE)
            return fail(4, L"cannot open", argv[2]);
        int code = run_line(argv[4]);
        CloseHandle(h);
        return code;
    }

    if (argc == 4 && !wcscmp(argv[1], L"lock")) {
        HANDLE h = open_shared(argv[2], GENERIC_READ | GENERIC_WRITE,
                               FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE);
        if (h == INVALID_HANDLE_VALUE)
            return fail(4, L"cannot open", argv[2]);
        OVERLAPPED ov = { 0 };
        if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, MAXDWORD, MAXDWORD, &ov))
            return fail(5, L"cannot lock", argv[2]);
        int code = run_line(argv[3]);
        UnlockFileEx(h, 0, MAXDWORD, MAXDWORD, &ov);
        CloseHandle(h);
        return code;
    }

    if (argc == 4 && !wcscmp(argv[1], L"stream-write")) {
        HANDLE h = CreateFileW(argv[2], GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
        if (h == INVALID_HANDLE_VALUE)
            return fail(6, L"cannot create the stream", argv[2]);
        char buf[4096];
        int n = WideCharToMultiByte(CP_UTF8, 0, argv[3], -1, buf, sizeof buf, NULL, NULL);
        DWORD put = 0;
        BOOL ok = n > 0 && WriteFile(h, buf, (DWORD)(n - 1), &put, NULL);
        CloseHandle(h);
        return ok ? 0 : fail(7, L"cannot write the stream", argv[2]);
    }

    if (argc == 3 && !wcscmp(argv[1], L"stream-read")) {
        HANDLE h = open_shared(argv[2], GENERIC_READ, FILE_SHARE_READ);
        if (h == INVALID_HANDLE_VALUE)
            return fail(8, L"cannot open the stream", argv[2]);
        char buf[4096];
        DWORD got = 0;
        BOOL ok = ReadFile(h, buf, sizeof buf, &got, NULL);
        CloseHandle(h);
        if (!ok)
            return fail(9, L"cannot read the stream", argv[2]);
        fwrite(buf, 1, got, stdout);
        return 0;
    }

    if (argc == 3 && !wcscmp(argv[1], L"attrs")) {
        DWORD a = GetFileAttributesW(argv[2]);
        if (a == INVALID_FILE_ATTRIBUTES)
            return fail(10, L"cannot read the attributes of", argv[2]);
        DWORD shown = FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_TEMPORARY;
        printf("%s%s%s%s\n", (a & FILE_ATTRIBUTE_READONLY) ? "R" : "", (a & FILE_ATTRIBUTE_HIDDEN) ? "H" : "",
               (a & FILE_ATTRIBUTE_TEMPORARY) ? "T" : "", (a & shown) ? "" : "-");
        return 0;
    }

    if (argc == 4 && !wcscmp(argv[1], L"set-attrs")) {
        DWORD a = FILE_ATTRIBUTE_NORMAL;
        if (wcschr(argv[3], L'R') || wcschr(argv[3], L'H')) {
            a = 0;
            if (wcschr(argv[3], L'R'))
                a |= FILE_ATTRIBUTE_READONLY;
            if (wcschr(argv[3], L'H'))
                a |= FILE_ATTRIBUTE_HIDDEN;
        }
        if (!SetFileAttributesW(argv[2], a))
            return fail(11, L"cannot set the attributes of", argv[2]);
        return 0;
    }

    if (argc == 5 && !wcscmp(argv[1], L"rename-while")) {
        size_t folder_len = wcslen(argv[2]);
        if (wcsncmp(argv[3], argv[2], folder_len) || argv[3][folder_len] != L'\\')
            return fail(19, L"the file is not beneath the folder", argv[3]);
        wchar_t moved[MAX_PATH * 2], moved_file[MAX_PATH * 2];
        swprintf(moved, MAX_PATH * 2, L"%ls.moved", argv[2]);
        swprintf(moved_file, MAX_PATH * 2, L"%ls%ls", moved, argv[3] + folder_len);
        PROCESS_INFORMATION pi;
        if (!start_line(argv[4], &pi))
            return fail(19, L"cannot start the command line in", argv[4]);
        BOOL seen = FALSE;
        unsigned refused = 0, renamed = 0, after = 0;
        while (WaitForSingleObject(pi.hProcess, 0) == WAIT_TIMEOUT) {
            if (!has_temp(argv[3])) {
                if (seen)
                    break; /* the swap is done */
                continue;
            }
            seen = TRUE;
            if (!MoveFileW(argv[2], moved)) {
                refused++;
                continue;
            }
            /* Renamed: a failure if the run is still in the middle of its work now (the folder was moved under
             * it); otherwise it had just finished the swap. */
            if (has_temp(moved_file))
                renamed++;
            else
                after++;
            MoveFileW(moved, argv[2]);
        }
        WaitForSingleObject(pi.hProcess, INFINITE);
        DWORD code = 1;
        GetExitCodeProcess(pi.hProcess, &code);
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
        printf("refused %u renamed %u (after the run let go: %u)\n", refused, renamed, after);
        if (!seen)
            return 21;
        return (renamed == 0 && refused > 0) ? (int)code : 22;
    }

    if (argc == 4 && !wcscmp(argv[1], L"junction")) {
        /* REPARSE_DATA_BUFFER for IO_REPARSE_TAG_MOUNT_POINT: substitute name "\??\<target>", empty print name. */
        static BYTE buf[MAXIMUM_REPARSE_DATA_BUFFER_SIZE];
        wchar_t sub[MAX_PATH + 8];
        swprintf(sub, MAX_PATH + 8, L"\\??\\%ls", argv[3]);
        USHORT sub_len = (USHORT)(wcslen(sub) * sizeof(wchar_t));
        DWORD *tag = (DWORD *)buf;
        USHORT *hdr = (USHORT *)(buf + 4);
        USHORT *mp = (USHORT *)(buf + 8);
        tag[0] = IO_REPARSE_TAG_MOUNT_POINT;
        mp[0] = 0;                        /* SubstituteNameOffset */
        mp[1] = sub_len;                  /* SubstituteNameLength */
        mp[2] = sub_len + sizeof(wchar_t); /* PrintNameOffset */
        mp[3] = 0;                        /* PrintNameLength */
        memcpy(buf + 16, sub, sub_len);
        hdr[0] = 8 + sub_len + 2 * sizeof(wchar_t); /* ReparseDataLength */
        hdr[1] = 0;
        HANDLE h = CreateFileW(argv[2], GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                               FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
        if (h == INVALID_HANDLE_VALUE)
            return fail(12, L"cannot open the folder", argv[2]);
        DWORD got = 0;
        BOOL ok = DeviceIoControl(h, FSCTL_SET_REPARSE_POINT, buf, 8 + hdr[0], NULL, 0, &got, NULL);
        DWORD err = GetLastError();
        CloseHandle(h);
        if (!ok) {
            fwprintf(stderr, L"wintest: FSCTL_SET_REPARSE_POINT on %ls: error %lu\n", argv[2], err);
            return 20;
        }
        return 0;
    }

    if (argc == 3 && !wcscmp(argv[1], L"reparse-tag")) {
        HANDLE h = CreateFileW(argv[2], FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                               NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
        if (h == INVALID_HANDLE_VALUE)
            return fail(13, L"cannot open", argv[2]);
        FILE_ATTRIBUTE_TAG_INFO info;
        BOOL ok = GetFileInformationByHandleEx(h, FileAttributeTagInfo, &info, sizeof info);
        CloseHandle(h);
        if (!ok)
            return fail(14, L"cannot read the reparse tag of", argv[2]);
        printf("%lx\n", (info.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) ? info.ReparseTag : 0);
        return 0;
    }

    if (argc == 3 && !wcscmp(argv[1], L"sddl-get")) {
        PSECURITY_DESCRIPTOR sd = NULL;
        DWORD rc = GetNamedSecurityInfoW(argv[2], SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION |
                                         GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                                         NULL, NULL, NULL, NULL, &sd);
        if (rc != ERROR_SUCCESS) {
            SetLastError(rc);
            return fail(15, L"cannot read the security of", argv[2]);
        }
        LPWSTR text = NULL;
        if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(sd, SDDL_REVISION_1, OWNER_SECURITY_INFORMATION |
                                                                  GROUP_SECURITY_INFORMATION |
                                                                  DACL_SECURITY_INFORMATION, &text, NULL))
            return fail(16, L"cannot convert the security of", argv[2]);
        wprintf(L"%ls\n", text);
        LocalFree(text);
        LocalFree(sd);
        return 0;
    }

    if (argc == 4 && !wcscmp(argv[1], L"sddl-set")) {
        PSECURITY_DESCRIPTOR sd = NULL;
        if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(argv[3], SDDL_REVISION_1, &sd, NULL))
            return fail(17, L"bad SDDL", argv[3]);
        BOOL present = FALSE, defaulted = FALSE;
        PACL dacl = NULL;
        GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
        DWORD rc = SetNamedSecurityInfoW(argv[2], SE_FILE_OBJECT,
                                         DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, NULL, NULL,
                                         dacl, NULL);
        LocalFree(sd);
        if (rc != ERROR_SUCCESS) {
            SetLastError(rc);
            return fail(18, L"cannot set the security of", argv[2]);
        }
        return 0;
    }

    fwprintf(stderr, L"wintest: bad arguments (see the comment at the top of tests/windows/wintest.c)\n");
    return 250;
}
