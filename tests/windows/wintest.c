/* Test helper for tests/windows/run.sh, run under Wine; test scaffolding only, never shipped.
 *
 *   wintest run  <cmdline.txt>                       start the command line in the file (UTF-8, one line) exactly
 *                                                    as written, as FSRM does (CreateProcessW, no shell), and exit
 *                                                    with its exit code
 *   wintest hold <file> <none|read|readwrite> <cmdline.txt>
 *                                                    open <file> with that share mode (none: deny everyone; read:
 *                                                    let others read but not write or delete; readwrite: no delete),
 *                                                    then run the command line while holding it; exit with its code
 *   wintest lock <file> <cmdline.txt>                hold an exclusive byte-range lock (LockFileEx) on the whole of
 *                                                    <file> (opened with full sharing) while running the command
 *   wintest stream-write <file:stream> <text>        write <text> to an alternate data stream
 *   wintest stream-read <file:stream>                print the stream's content
 *   wintest attrs <file>                             print R when read-only, H when hidden, T when temporary,
 *                                                    "-" for none of them
 *   wintest set-attrs <file> <R|H|RH|->              set those attributes (the others cleared)
 *
 * Exit codes: the child's, or 200 + n for a failure of the helper itself (printed to stderr). */
#include <windows.h>
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

    fwprintf(stderr, L"wintest: bad arguments (see the comment at the top of tests/windows/wintest.c)\n");
    return 250;
}
