<#
.SYNOPSIS
Shows whether files are protected by fci-connector, like Get-RMSFileStatus, without any key.

.DESCRIPTION
Runs `fci-connector.exe status --format json` and emits one object per file with Get-RMSFileStatus's two
properties, FileName and Status (Protected or UnProtected; also Damaged for a file that starts like a protected file
but cannot be read, and Error with the reason), followed by what the cleartext license says: Protector,
TemplateId, TemplateName, Owner, ContentId, Issued, ValidUntil, Rights, Recipients, FormatVersion, OriginalName,
OriginalSize, Error.

A folder lists the files in it (not below it). The script's exit code is fci-connector's: the highest code of any
file (docs/EXIT-CODES.md).

.PARAMETER File
Files or folders. Accepts pipeline input, also from Get-ChildItem.

.PARAMETER FciConnector
The path of fci-connector.exe. Default: fci-connector.exe in this script's folder, else in the folder above it.

.EXAMPLE
.\Get-FciFileStatus.ps1 -File 'D:\Shares\Finance\Q3 report.docx'

.EXAMPLE
Get-ChildItem D:\Shares\Finance -Recurse -File | .\Get-FciFileStatus.ps1 | Where-Object Status -eq 'UnProtected'

Files under a share that are not protected yet.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true, Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)]
    [Alias('FullName', 'Path')]
    [string[]]$File,

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
    $files = New-Object System.Collections.Generic.List[string]
    $statusNames = @{
        'protected'   = 'Protected'
        'unprotected' = 'UnProtected'
        'damaged'     = 'Damaged'
        'error'       = 'Error'
    }
}

process {
    foreach ($f in $File) {
        $files.Add((ConvertTo-NativeArgument $f))
    }
}

end {
    # One process for all files: status of many paths in one run; `--` so that no name is taken for an option.
    $arguments = @('status', '--format', 'json', '--') + $files
    Invoke-Utf8 {
        & $FciConnector @arguments | ForEach-Object {
            $row = $_ | ConvertFrom-Json
            $status = $statusNames[[string]$row.state]
            if (-not $status) {
                $status = [string]$row.state
            }
            [pscustomobject]@{
                PSTypeName    = 'FciConnector.FileStatus'
                FileName      = $row.path
                Status        = $status
                Protector     = $row.protector
                TemplateId    = $row.template_id
                TemplateName  = $row.template_name
                Owner         = $row.owner
                ContentId     = $row.content_id
                Issued        = $row.issued
                ValidUntil    = $row.valid_until
                Rights        = $row.rights
                Recipients    = $row.recipients
                FormatVersion = $row.format_version
                OriginalName  = $row.original_name
                OriginalSize  = $row.original_size
                Error         = $row.error
            }
        }
    }
    exit $LASTEXITCODE
}
