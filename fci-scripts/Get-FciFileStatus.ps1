<#
.SYNOPSIS
Shows whether files are protected by fci-connector, like Get-RMSFileStatus, without any key.

.DESCRIPTION
Runs `fci-connector.exe status --format json` and emits one object per file with Get-RMSFileStatus's two
properties, FileName and Status (Protected or UnProtected; also Damaged for a file that starts like a protected file
but cannot be read, and Error with the reason), followed by what the cleartext license says: Protector,
TemplateId, TemplateName, Owner, ContentId, Issued, ValidUntil, Rights, Recipients, LicenseServer, FormatVersion,
OriginalName, OriginalSize, Error.

The script is the reader module's Get-FciFileStatus (FciConnector.psm1, beside it) for admins who run scripts
rather than import modules: the same objects, from the same code.

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
    Import-Module (Join-Path $PSScriptRoot 'FciConnector.psd1') -Force
    $files = New-Object System.Collections.Generic.List[string]
}

process {
    foreach ($f in $File) {
        $files.Add($f)
    }
}

end {
    $arguments = @{ Path = $files.ToArray() }
    if ($FciConnector) {
        $arguments.FciConnector = $FciConnector
    }
    # The module reports a failed run as a non-terminating error whose id carries fci-connector's exit code
    # (FciConnector.ExitN); the script exits with that code, as it always has.
    $failures = @()
    FciConnector\Get-FciFileStatus @arguments -ErrorAction SilentlyContinue -ErrorVariable failures
    foreach ($failure in $failures) {
        Write-Warning $failure.Exception.Message
        if ($failure.FullyQualifiedErrorId -match '^FciConnector\.Exit(\d+)') {
            exit [int]$Matches[1]
        }
        throw $failure
    }
    exit 0
}
