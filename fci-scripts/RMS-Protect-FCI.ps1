<#
.SYNOPSIS
Protects one file with fci-connector. A drop-in replacement for Microsoft's RMS-Protect-FCI.ps1.

.DESCRIPTION
Sites whose FSRM file management task runs powershell.exe with Microsoft's RMS-Protect-FCI.ps1 migrate by replacing
that script file with this one: the task's Executable and Arguments stay as they are.

The script takes the same parameters as Microsoft's (-File, -TemplateID, -OwnerMail), calls fci-connector.exe with
them in the same form FSRM would use to call fci-connector.exe directly, and exits with fci-connector's exit code
(docs/EXIT-CODES.md): 0 done, 3 file gone, 4 busy (retry), 5 template problem, 6 configuration problem, 7 content
unreadable, 8 write failed.

Microsoft's cloud credentials (-AppPrincipalId, -SymmetricKey, -BposTenantId) are accepted and ignored with a
warning: fci-connector protects with the template's public keys and logs in to nothing.

Calling fci-connector.exe directly from the FSRM task (see docs/DEPLOYING.md) saves starting PowerShell for every
file; this script is for the transition.

.PARAMETER File
The file to protect (FSRM: '[Source File Path]').

.PARAMETER TemplateID
The template id, a GUID with or without braces.

.PARAMETER OwnerMail
The owner recorded in the license (FSRM: '[Source File Owner Email]'). Empty, or the unexpanded macro, means no
owner: the file is protected anyway.

.PARAMETER AppPrincipalId
Accepted for compatibility with Microsoft's script; ignored.

.PARAMETER SymmetricKey
Accepted for compatibility with Microsoft's script; ignored.

.PARAMETER BposTenantId
Accepted for compatibility with Microsoft's script; ignored.

.PARAMETER FciConnector
The path of fci-connector.exe. Default: fci-connector.exe in this script's folder, else in the folder above it.

.EXAMPLE
powershell.exe -NoProfile -File "C:\Program Files\FciConnector\fci-scripts\RMS-Protect-FCI.ps1" -File 'D:\Shares\Finance\Q3 report.docx' -TemplateID e6ee2481-26b9-45e5-b34a-f744eacd53b0 -OwnerMail 'anna@contoso.com'

Protects one file, as an FSRM task whose Executable is powershell.exe does.

.NOTES
powershell.exe reports a script's own exit code only when started with -File. Microsoft's task line used -Command,
under which every failure becomes exit code 1; FSRM only tells zero from non-zero, so either works, but use -File to
see fci-connector's codes in wrappers.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true, Position = 0)]
    [string]$File,

    [Parameter(Mandatory = $true)]
    [string]$TemplateID,

    [string]$OwnerMail = '',

    [string]$AppPrincipalId,

    [string]$SymmetricKey,

    [string]$BposTenantId,

    [string]$FciConnector = ''
)

$ErrorActionPreference = 'Stop'

foreach ($ignored in @('AppPrincipalId', 'SymmetricKey', 'BposTenantId')) {
    if ($PSBoundParameters.ContainsKey($ignored)) {
        Write-Warning "-$ignored is ignored: fci-connector protects with the template's public keys and needs no cloud credentials."
    }
}

if (-not $FciConnector) {
    $candidates = @(
        (Join-Path $PSScriptRoot 'fci-connector.exe'),
        (Join-Path (Split-Path -Parent $PSScriptRoot) 'fci-connector.exe')
    )
    $FciConnector = $candidates | Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
    if (-not $FciConnector) {
        Write-Error "fci-connector.exe not found; looked for: $($candidates -join ', '). Give -FciConnector <path>."
        exit 6
    }
}
elseif (-not (Test-Path -LiteralPath $FciConnector -PathType Leaf)) {
    Write-Error "fci-connector.exe not found at $FciConnector"
    exit 6
}

# Windows PowerShell drops empty arguments when it starts a program, so -OwnerMail goes only with a value.
$arguments = @('-File', $File, '-TemplateID', $TemplateID)
if ($OwnerMail) {
    $arguments += @('-OwnerMail', $OwnerMail)
}

& $FciConnector @arguments
exit $LASTEXITCODE
