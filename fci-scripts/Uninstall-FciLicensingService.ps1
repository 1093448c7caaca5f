<#
.SYNOPSIS
Removes the Windows service Install-FciLicensingService.ps1 registered: stops it and deletes it. Safe to run again;
supports -WhatIf.

.DESCRIPTION
Stops the licensing service (in-flight requests finish: Stop triggers its graceful shutdown) and deletes the
service. The config file, the key files, the store (the request record, revocations) and the service log stay where
they are: back them up or delete them yourself (docs/SERVICE.md, backup and restore). The ACL entries that named the
service's virtual account stay too and show as an unknown SID once the service is gone; -RemoveAcl removes the
account's entry from the config folder.

The event source FciConnector is kept unless -RemoveEventSource is given (fci-connector's FSRM task uses it too,
and the Application log keeps showing past events with it).

.PARAMETER ServiceName
The name of the Windows service. Default: FciLicensing.

.PARAMETER ConfigPath
With -RemoveAcl: the service's config file, whose folder's entry for the service account is removed.

.PARAMETER RemoveAcl
Remove the service account's entry from the ACL of the config folder (give -ConfigPath).

.PARAMETER RemoveEventSource
Also unregister the FciConnector event source from the Application log.

.EXAMPLE
.\Uninstall-FciLicensingService.ps1 -WhatIf

.EXAMPLE
.\Uninstall-FciLicensingService.ps1 -ConfigPath 'C:\ProgramData\FciConnector\licensing\licensing.toml' -RemoveAcl
#>
#Requires -Version 5.1
#Requires -RunAsAdministrator
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    [ValidatePattern('^[A-Za-z0-9_.-]+$')]
    [string]$ServiceName = 'FciLicensing',

    [string]$ConfigPath = '',

    [switch]$RemoveAcl,

    [switch]$RemoveEventSource
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

if ($RemoveAcl -and -not $ConfigPath) {
    throw '-RemoveAcl needs -ConfigPath (the folder whose entry is removed is the config file''s)'
}

$removed = @()
$service = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
if ($service) {
    if ($service.Status -ne 'Stopped' -and $PSCmdlet.ShouldProcess($ServiceName, 'Stop the service')) {
        Stop-Service -Name $ServiceName
        $service.WaitForStatus('Stopped', [TimeSpan]::FromSeconds(90))
    }
    if ($PSCmdlet.ShouldProcess($ServiceName, 'Delete the service')) {
        # sc.exe, not Remove-Service: that cmdlet is not in Windows PowerShell 5.1.
        $output = & sc.exe delete $ServiceName 2>&1 | ForEach-Object { [string]$_ }
        if ($LASTEXITCODE -ne 0) {
            throw "sc.exe delete $ServiceName failed (exit $LASTEXITCODE): $($output -join ' ')"
        }
        $removed += "service $ServiceName"
    }
}

if ($RemoveAcl) {
    $folder = Split-Path -Parent (Resolve-Path -LiteralPath $ConfigPath).ProviderPath
    $account = "NT SERVICE\$ServiceName"
    if ($PSCmdlet.ShouldProcess($folder, "Remove the entry of $account")) {
        $acl = Get-Acl -LiteralPath $folder
        $rules = @($acl.Access | Where-Object { -not $_.IsInherited -and $_.IdentityReference.Value -eq $account })
        foreach ($rule in $rules) {
            $null = $acl.RemoveAccessRule($rule)
        }
        if ($rules.Count -gt 0) {
            Set-Acl -LiteralPath $folder -AclObject $acl
            $removed += "the ACL entry of $account on $folder"
        }
    }
}

if ($RemoveEventSource -and [System.Diagnostics.EventLog]::SourceExists('FciConnector')) {
    if ($PSCmdlet.ShouldProcess('FciConnector', 'Unregister the event source')) {
        # The .NET call, not Remove-EventLog: that cmdlet is not in PowerShell 7.
        [System.Diagnostics.EventLog]::DeleteEventSource('FciConnector')
        $removed += 'event source FciConnector'
    }
}

if ($removed.Count -eq 0) {
    Write-Output "Nothing to remove: no service $ServiceName."
}
else {
    Write-Output ("Removed: " + ($removed -join ', '))
}
