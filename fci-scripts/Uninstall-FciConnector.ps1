<#
.SYNOPSIS
Removes what Install-FciConnector.ps1 registered with FSRM: the file management job and its classification rule.
Safe to run again; supports -WhatIf.

.DESCRIPTION
Removes the file management job and, when there is one, the FSRM classification rule Install-FciConnector.ps1
created for it ("<JobName> - classification"). Protected files stay protected, and fci-connector's files
(executable, templates, rules, logs) stay where they are: delete the folder yourself once no task uses it.

The classification property is kept unless -RemoveProperty is given (other rules or reports may use it), and the
event source is kept unless -RemoveEventSource is given (the Application log keeps showing past events with it).

.PARAMETER JobName
The name of the file management job. Default: FCI Connector - Protect.

.PARAMETER RemoveProperty
Also remove this classification property definition (Install-FciConnector.ps1's -PropertyName, in FsrmRules mode).

.PARAMETER RemoveEventSource
Also unregister the FciConnector event source from the Application log.

.EXAMPLE
.\Uninstall-FciConnector.ps1 -WhatIf

.EXAMPLE
.\Uninstall-FciConnector.ps1 -JobName 'FCI Connector - HR' -RemoveProperty Confidentiality
#>
#Requires -Version 5.1
#Requires -RunAsAdministrator
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    [string]$JobName = 'FCI Connector - Protect',

    [string]$RemoveProperty = '',

    [switch]$RemoveEventSource
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

if (-not (Get-Module -ListAvailable -Name FileServerResourceManager)) {
    throw 'The FileServerResourceManager module is missing: nothing of FSRM to remove on this server.'
}
Import-Module FileServerResourceManager

$removed = @()

if (Get-FsrmFileManagementJob -Name $JobName -ErrorAction SilentlyContinue) {
    if ($PSCmdlet.ShouldProcess($JobName, 'Remove the file management job')) {
        Remove-FsrmFileManagementJob -Name $JobName -Confirm:$false
        $removed += "file management job '$JobName'"
    }
}
else {
    Write-Verbose "No file management job named '$JobName'."
}

$ruleName = "$JobName - classification"
if (Get-FsrmClassificationRule -Name $ruleName -ErrorAction SilentlyContinue) {
    if ($PSCmdlet.ShouldProcess($ruleName, 'Remove the classification rule')) {
        Remove-FsrmClassificationRule -Name $ruleName -Confirm:$false
        $removed += "classification rule '$ruleName'"
    }
}

if ($RemoveProperty) {
    if (Get-FsrmClassificationPropertyDefinition -Name $RemoveProperty -ErrorAction SilentlyContinue) {
        if ($PSCmdlet.ShouldProcess($RemoveProperty, 'Remove the classification property definition')) {
            Remove-FsrmClassificationPropertyDefinition -Name $RemoveProperty -Confirm:$false
            $removed += "classification property '$RemoveProperty'"
        }
    }
}

if ($RemoveEventSource -and [System.Diagnostics.EventLog]::SourceExists('FciConnector')) {
    if ($PSCmdlet.ShouldProcess('FciConnector', 'Unregister the event source')) {
        # The .NET call, not Remove-EventLog: that cmdlet is not in PowerShell 7.
        [System.Diagnostics.EventLog]::DeleteEventSource('FciConnector')
        $removed += "event source 'FciConnector'"
    }
}

if ($removed.Count -eq 0) {
    Write-Output 'Nothing to remove.'
}
else {
    $removed | ForEach-Object { Write-Output "Removed $_." }
}
