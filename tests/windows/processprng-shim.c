/* Test scaffolding only, never shipped: Wine 8's bcryptprimitives.dll lacks ProcessPrng, which Rust's std calls at
 * start-up on Windows. tests/windows/run.sh builds this into the test Wine prefix as bcryptprimitives.dll. It fills
 * the buffer from RtlGenRandom (advapi32's SystemFunction036), as ProcessPrng does on Windows. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
