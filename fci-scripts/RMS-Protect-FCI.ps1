<#
.SYNOPSIS
Protects one file with fci-connector. A drop-in replacement for Microsoft's RMS-Protect-FCI.ps1.

.DESCRIPTION
Sites whose FSRM file management task runs powershell.exe with Microsoft's RMS-Protect-FCI.ps1 migrate by replacing
that script file with this one: the task's Executable and Arguments can stay as they are.

Like Microsoft's script, it protects every file FSRM hands it: the task's condition chose the file. With -Classify,
fci-connector classifies the file with its own rule set first and protects it only if its policy says so.

It accepts every form of Microsoft's parameters (-File, -TemplateID, -OwnerMail, all optional; the owner unquoted
and split by FSRM's expansion, or the unexpanded macro, meaning no owner), starts fci-connector.exe with the same
argument line an FSRM task that calls fci-connector.exe directly has (fci-scripts/fsrm-command-line.txt; each value
in double quotes, so that it is one word), and exits with fci-connector's exit code (docs/EXIT-CODES.md): 0 done,
2 usage, 3 file gone, 4 busy (retry), 5 template problem, 6 configuration problem (also: fci-connector.exe not
found), 7 content unreadable, 8 write failed.

Microsoft's cloud credentials (-AppPrincipalId, -SymmetricKey, -BposTenantId) are accepted and ignored with a
warning: fci-connector protects with the template's public keys and logs in to nothing.

Calling fci-connector.exe directly from the FSRM task (see docs/DEPLOYING.md) saves starting PowerShell for every
file and handles every file name; this script is for the transition.

.PARAMETER File
The file to protect (FSRM: '[Source File Path]').

.PARAMETER TemplateID
The template id, a GUID with or without braces. Without it, fci-connector uses default_template from its
configuration.

.PARAMETER OwnerMail
The owner recorded in the license (FSRM: '[Source File Owner Email]'). Empty, or the unexpanded macro, means no
owner: the file is protected anyway.

.PARAMETER Classify
Let fci-connector's rule set decide whether the file needs protection (fci-connector's Connector mode) instead of
protecting every file FSRM selected (Microsoft's behaviour, the default).

.PARAMETER AppPrincipalId
Accepted for compatibility with Microsoft's script; ignored.

.PARAMETER SymmetricKey
Accepted for compatibility with Microsoft's script; ignored.

.PARAMETER BposTenantId
Accepted for compatibility with Microsoft's script; ignored.

.PARAMETER FciConnector
The path of fci-connector.exe. Default: fci-connector.exe in this script's folder, else in the folder above it.

.PARAMETER Rest
Words of a value that FSRM's plain-text expansion split (an unquoted owner macro, a path passed with -File).

.EXAMPLE
powershell.exe -NoProfile -NonInteractive -Command "& 'C:\Program Files\FciConnector\fci-scripts\RMS-Protect-FCI.ps1' -File 'D:\Shares\Finance\Q3 report.docx' -TemplateID e6ee2481-26b9-45e5-b34a-f744eacd53b0 -OwnerMail 'anna@contoso.com'; exit $LASTEXITCODE"

Protects one file, as an FSRM task whose Executable is powershell.exe does (the line of fsrm-command-line.txt).

.NOTES
powershell.exe -Command turns a script's exit code other than 0 into 1 unless the command ends with
"; exit $LASTEXITCODE" (about_PowerShell_exe). Do not use powershell.exe -File in an FSRM task: FSRM adds no quotes
and single quotes are not quotes to Windows, so a path with spaces arrives in pieces. Under -Command a file name
holding a single quote (' or a typographic one) ends the quoted string early and the task fails for that file:
call fci-connector.exe directly for such shares (docs/DEPLOYING.md).
#>
[CmdletBinding(PositionalBinding = $false)]
param(
    [string]$File = '',

    [string]$TemplateID = '',

    [string]$OwnerMail = '',

    [switch]$Classify,

    [string]$AppPrincipalId,

    [string]$SymmetricKey,

    [string]$BposTenantId,

    [string]$FciConnector = '',

    [Parameter(ValueFromRemainingArguments = $true)]
    [string[]]$Rest = @()
)

# Failures are reported with their own exit code (docs/EXIT-CODES.md), never as a terminating error (exit 1).
$ErrorActionPreference = 'Continue'

# The argument line fci-connector reads: `protect` and fsrm-command-line.txt's line with each value in double quotes,
# so that it reaches fci-connector as one word (tests/integration/fsrm_command_line.rs checks that the two are the
# same line).
# `protect` in front marks Microsoft's form whichever switch comes next.
$LineForm = 'protect -TemplateID {TemplateID} -OwnerMail "[Source File Owner Email]" -File "[Source File Path]"'

function Stop-WithCode {
    param([int]$Code, [string]$Message)
    [Console]::Error.WriteLine("RMS-Protect-FCI.ps1: $Message")
    exit $Code
}

function Remove-Quotes {
    <# One layer of matching quotes around a value, as a caller without a shell leaves them. #>
    param([string]$Value)
    foreach ($q in @("'", '"')) {
        if ($Value.Length -ge 2 -and $Value.StartsWith($q) -and $Value.EndsWith($q)) {
            return $Value.Substring(1, $Value.Length - 2)
        }
    }
    return $Value
}

foreach ($ignored in @('AppPrincipalId', 'SymmetricKey', 'BposTenantId')) {
    if ($PSBoundParameters.ContainsKey($ignored)) {
        Write-Warning "-$ignored is ignored: fci-connector protects with the template's public keys and needs no cloud credentials."
    }
}

# Words FSRM's expansion split off a value: an unquoted [Source File Owner Email] or owner, and a path passed under
# powershell.exe -File (one word per blank; runs of blanks cannot be recovered there).
$words = New-Object System.Collections.Generic.List[string]
foreach ($w in $Rest) { $words.Add($w) }
if ($File.StartsWith("'") -and -not ($File.Length -ge 2 -and $File.EndsWith("'"))) {
    while ($words.Count -gt 0) {
        $File = $File + ' ' + $words[0]
        $closed = $words[0].EndsWith("'")
        $words.RemoveAt(0)
        if ($closed) { break }
    }
}
if ($OwnerMail.StartsWith('[') -and -not $OwnerMail.EndsWith(']')) {
    while ($words.Count -gt 0) {
        $OwnerMail = $OwnerMail + ' ' + $words[0]
        $closed = $words[0].EndsWith(']')
        $words.RemoveAt(0)
        if ($closed) { break }
    }
}
if ($words.Count -gt 0) {
    Write-Warning "Ignored arguments: $($words -join ' ')"
}

$File = Remove-Quotes $File
$TemplateID = Remove-Quotes $TemplateID
$OwnerMail = Remove-Quotes $OwnerMail
if ($OwnerMail -eq '[Source File Owner Email]') {
    # FSRM leaves the macro when the owner has no e-mail address: protect without an owner, as Microsoft's did.
    $OwnerMail = ''
}
if (-not $File) {
    Stop-WithCode 2 'no file: give -File <path> (FSRM: -File ''[Source File Path]'').'
}
if ($File.Contains('"') -or $OwnerMail.Contains('"') -or $TemplateID.Contains('"')) {
    Stop-WithCode 2 "a value holds a double quote, which no Windows file name or mail address has: $File"
}

if (-not $FciConnector) {
    $candidates = @(
        (Join-Path $PSScriptRoot 'fci-connector.exe'),
        (Join-Path (Split-Path -Parent $PSScriptRoot) 'fci-connector.exe')
    )
    $FciConnector = $candidates | Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
    if (-not $FciConnector) {
        Stop-WithCode 6 "fci-connector.exe not found; looked for: $($candidates -join ', '). Give -FciConnector <path>."
    }
}
elseif (-not (Test-Path -LiteralPath $FciConnector -PathType Leaf)) {
    Stop-WithCode 6 "fci-connector.exe not found at $FciConnector"
}

# Fill the form in one pass, so that text in one value is never read as another macro.
$form = $LineForm
if (-not $TemplateID) {
    $form = $form.Replace('-TemplateID {TemplateID} ', '')
}
if (-not $OwnerMail) {
    $form = $form.Replace('-OwnerMail "[Source File Owner Email]" ', '')
}
if (-not $Classify) {
    # FSRM's condition chose this file: protect it without classifying, as Microsoft's script did.
    $form = $form.Replace('protect ', 'protect -Always ')
}
$values = @{
    '{TemplateID}'               = $TemplateID
    '[Source File Owner Email]' = $OwnerMail
    '[Source File Path]'        = $File
}
$line = [regex]::Replace($form, '\{TemplateID\}|\[Source File Owner Email\]|\[Source File Path\]', {
        param($m)
        $values[$m.Value]
    })

# The line goes to CreateProcess as written (ProcessStartInfo.Arguments is not re-quoted), not through PowerShell's
# native argument passing, which differs between Windows PowerShell and PowerShell 7 and mangles a value ending in \.
$start = New-Object System.Diagnostics.ProcessStartInfo
$start.FileName = $FciConnector
$start.Arguments = $line
$start.UseShellExecute = $false
try {
    $process = [System.Diagnostics.Process]::Start($start)
}
catch {
    Stop-WithCode 6 "cannot start ${FciConnector}: $($_.Exception.Message)"
}
$process.WaitForExit()
exit $process.ExitCode
