/* Test helper for tests/windows/run.sh, run under Wine; test scaffolding only, never shipped.
 *
 *   launcher <program|-> <cmdline.txt>
 *
 * Starts the command line in <cmdline.txt> (UTF-8, first line) exactly as written with CreateProcessW, the way a
 * service such as FSRM starts a task's Command with its Arguments, and exits with the child's exit code. With a
 * program, it is passed as lpApplicationName: then neither Windows nor Wine looks at the line to find the program,
 * and the child's GetCommandLineW is the literal line even when it starts with an unquoted path holding a space
 * (C:\Program Files\...). With "-", lpApplicationName is NULL and the program is found from the line (Windows tries
 * "C:\Program", then "C:\Program Files\...", and leaves the line as it is; Wine may quote the name it found).
 *
 * Exit codes: the child's, or 200 + n for a failure of the launcher itself (printed to stderr). */
#include <windows.h>
#include <stdio.h>
#include <wchar.h>

static int fail(int code, const wchar_t *what, const wchar_t *arg)
{
    fwprintf(stderr, L"launcher: %ls %ls: error %lu\n", what, arg ? arg : L"", GetLastError());
    return 200 + code;
}

/* The first line of a UTF-8 file (BOM allowed), as a wide string; NULL on failure. */
static wchar_t *read_line(const wchar_t *path)
{
    HANDLE h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return NULL;
    static char buf[65536];
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
    if (n <= 0)
        return NULL;
    wchar_t *line = HeapAlloc(GetProcessHeap(), 0, (n + 1) * sizeof(wchar_t));
    if (!line)
        return NULL;
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, buf + start, (int)(end - start), line, n);
    line[n] = 0;
    return line;
}

int wmain(int argc, wchar_t **argv)
{
    if (argc != 3) {
        fwprintf(stderr, L"usage: launcher <program|-> <cmdline.txt>\n");
        return 202;
    }
    const wchar_t *program = wcscmp(argv[1], L"-") ? argv[1] : NULL;
    wchar_t *line = read_line(argv[2]);
    if (!line)
        return fail(1, L"cannot read the command line in", argv[2]);
    STARTUPINFOW si = { sizeof si };
    PROCESS_INFORMATION pi;
    /* CreateProcessW may write to the line (it must be writable); it is ours. */
    if (!CreateProcessW(program, line, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi))
        return fail(3, L"cannot start", line);
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 1;
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return (int)code;
}
