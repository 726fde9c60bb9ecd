/*
 * A stand-in for Windows's bcryptprimitives.dll, for running pregon under
 * Debian 12's Wine 8.0, which lacks it. Go's runtime (1.22 and later)
 * refuses to start without ProcessPrng, which Windows 10 and later always
 * have; Wine gained the DLL only after 8.0. CI builds this into the Wine
 * prefix and nothing else: it is never part of a release.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
