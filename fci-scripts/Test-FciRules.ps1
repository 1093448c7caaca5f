<#
.SYNOPSIS
Classifies sample files with fci-connector's rule set and emits one object per file. Changes nothing.

.DESCRIPTION
Runs `fci-connector.exe classify --format json` on the files or folders given and turns each JSON line into an
object: Path, Decision (protect, skip, ...), Template, Properties, Matches (rule, entity, count, confidence; never the
matched values), Problems and Error. Use it to try a rule change on a sample folder before the FSRM task meets it.

The script's exit code is fci-connector's: 0 when every file was classified, 6 when the rule files are invalid,
otherwise the highest code of any file (docs/EXIT-CODES.md).

.PARAMETER Path
Files, or folders (with -Recurse).

.PARAMETER Recurse
Classify every file under the folders given.

.PARAMETER Rules
A rule folder other than the deployed one (default: classification-rules beside fci-connector.exe).

.PARAMETER FciConnector
The path of fci-connector.exe. Default: fci-connector.exe in this script's folder, else in the folder above it.

.EXAMPLE
.\Test-FciRules.ps1 -Path D:\Samples\Finance -Recurse | Format-Table Path, Decision, Template

.EXAMPLE
.\Test-FciRules.ps1 -Path D:\Samples -Recurse -Rules D:\rules-next | Where-Object Decision -eq 'protect'

Which sample files a new rule set would protect.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true, Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)]
    [Alias('FullName')]
    [string[]]$Path,

    [switch]$Recurse,

    [string]$Rules = '',

    [string]$FciConnector = ''
)

begin {
    $ErrorActionPreference = 'Stop'
    function ConvertTo-NativeArgument {
        <# A path as Windows PowerShell's native argument passing delivers it intact: it wraps an argument holding a
           blank in double quotes without escaping a trailing backslash, so "D:\My Samples\" would reach fci-connector
           as D:\My Samples". The trailing backslash of a folder is dropped (not the one of a drive root, which holds
           no blank). #>
        param([string]$Path)
        if ($Path -match '\s' -and $Path.EndsWith('\') -and $Path.Length -gt 3) {
            return $Path.TrimEnd('\')
        }
        return $Path
    }

    function Invoke-Utf8 {
        <# Runs a script block with [Console]::OutputEncoding set to UTF-8: Windows PowerShell decodes a native
           program's output with it (the OEM code page by default), and fci-connector writes UTF-8. #>
        param([scriptblock]$Block)
        $previous = [Console]::OutputEncoding
        try {
            [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding($false)
            & $Block
        }
        finally {
            [Console]::OutputEncoding = $previous
        }
    }

    if (-not $FciConnector) {
        $FciConnector = @(
            (Join-Path $PSScriptRoot 'fci-connector.exe'),
            (Join-Path (Split-Path -Parent $PSScriptRoot) 'fci-connector.exe')
        ) | Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
    }
    if (-not $FciConnector -or -not (Test-Path -LiteralPath $FciConnector -PathType Leaf)) {
        throw 'fci-connector.exe not found beside this script or in the folder above; give -FciConnector <path>.'
    }
    $paths = New-Object System.Collections.Generic.List[string]
}

process {
    foreach ($p in $Path) {
        $paths.Add((ConvertTo-NativeArgument $p))
    }
}

end {
    $arguments = @()
    if ($Rules) {
        $arguments += @('--rules', (ConvertTo-NativeArgument $Rules))
    }
    $arguments += @('classify', '--format', 'json')
    if ($Recurse) {
        $arguments += '--recurse'
    }
    # `--` so that a file name starting with a dash is not taken for an option.
    $arguments += '--'
    $arguments += $paths

    Invoke-Utf8 {
        & $FciConnector @arguments | ForEach-Object {
            $row = $_ | ConvertFrom-Json
            [pscustomobject]@{
                PSTypeName = 'FciConnector.Classification'
                Path       = $row.path
                Decision   = $row.decision
                Template   = $row.template
                Properties = $row.properties
                Matches    = $row.matches
                Problems   = $row.problems
                Error      = $row.error
            }
        }
    }
    $code = $LASTEXITCODE
    if ($code -ne 0) {
        Write-Warning "fci-connector classify ended with exit code $code (see docs/EXIT-CODES.md)."
    }
    exit $code
}
