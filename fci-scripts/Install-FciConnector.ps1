<#
.SYNOPSIS
Registers fci-connector with File Server Resource Manager (FSRM): a file management job that protects the files of
the folders given, and what it needs. Safe to run again; supports -WhatIf.

.DESCRIPTION
Run it as an administrator on the file server, from the fci-scripts folder of an installed copy of fci-connector
(fci-connector.exe, templates\ and classification-rules\ in the folder above; see docs/DEPLOYING.md). It:

  1. checks that the FileServerResourceManager module is there, that fci-connector.exe runs, that the template
     exists in its template store, and (in Connector mode) that the rule files are valid;
  2. checks that only Administrators, SYSTEM and TrustedInstaller can write to the executable's folder: FSRM refuses
     to run a custom action from a folder others can write to. With -FixFolderAcl it sets that ACL (Administrators
     and SYSTEM full control, Users read and execute, inheritance off); otherwise it stops and names who can write;
  3. registers the event source FciConnector in the Application log, where fci-connector reports failures;
  4. in FsrmRules mode, creates the classification property the job's condition tests (New-FsrmClassificationPropertyDefinition)
     and, with -ContentPattern, an FSRM content classification rule that sets it (New-FsrmClassificationRule);
  5. creates the file management job (New-FsrmFmjAction -Type Custom, New-FsrmFmjCondition,
     New-FsrmFileManagementJob -Continuous -Schedule), or brings an existing job of the same name up to date.

The job's argument line is read from fsrm-command-line.txt beside this script, with {TemplateID} replaced.

Modes:
  Connector  (default) fci-connector classifies each file with its own rule set and protects what the policy says.
             The job runs on every file of the namespace; files that need no protection are left alone (exit 0).
  FsrmRules  FSRM's classification decides: the job runs only on files whose property -PropertyName has the value
             -PropertyValue, and fci-connector protects them without classifying (-Always).

.PARAMETER Namespace
The folders the job scans, e.g. D:\Shares\Finance.

.PARAMETER TemplateId
The id (GUID) of the template to protect with. It must be in the template store beside fci-connector.exe.

.PARAMETER Mode
Connector (fci-connector's rules decide) or FsrmRules (an FSRM classification property decides).

.PARAMETER JobName
The name of the file management job. Default: FCI Connector - Protect.

.PARAMETER ExePath
The path of fci-connector.exe. Default: fci-connector.exe in the folder above this script.

.PARAMETER PropertyName
FsrmRules mode: the classification property the job's condition tests. Default: Confidentiality.

.PARAMETER PropertyValue
FsrmRules mode: the value of the property that means "protect". Default: High.

.PARAMETER ContentPattern
FsrmRules mode: regular expressions for an FSRM content classification rule that sets the property on files whose
content matches. Without it, an existing classification (yours) sets the property.

.PARAMETER ScheduleTime
When the scheduled run starts. Default: 02:00.

.PARAMETER ScheduleDays
The days of the scheduled run. Default: Sunday. Between runs, -Continuous handles new and changed files.

.PARAMETER FixFolderAcl
Set the ACL of the executable's folder when others than Administrators, SYSTEM and TrustedInstaller can write to it.

.EXAMPLE
.\Install-FciConnector.ps1 -Namespace 'D:\Shares\Finance', 'D:\Shares\HR' -TemplateId e6ee2481-26b9-45e5-b34a-f744eacd53b0 -WhatIf

Shows what it would register, changing nothing.

.EXAMPLE
.\Install-FciConnector.ps1 -Namespace 'D:\Shares\Finance' -TemplateId e6ee2481-26b9-45e5-b34a-f744eacd53b0 -FixFolderAcl

.EXAMPLE
.\Install-FciConnector.ps1 -Namespace 'D:\Shares\HR' -TemplateId e6ee2481-26b9-45e5-b34a-f744eacd53b0 -Mode FsrmRules -PropertyName Confidentiality -PropertyValue High -ContentPattern '\b\d{3}-\d{2}-\d{4}\b'

FSRM classifies (files with something like a US social security number get Confidentiality = High) and the job
protects the files it marked.
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    [Parameter(Mandatory = $true)]
    [string[]]$Namespace,

    [Parameter(Mandatory = $true)]
    [ValidatePattern('^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$')]
    [string]$TemplateId,

    [ValidateSet('Connector', 'FsrmRules')]
    [string]$Mode = 'Connector',

    [string]$JobName = 'FCI Connector - Protect',

    [string]$ExePath = '',

    [string]$PropertyName = 'Confidentiality',

    [string]$PropertyValue = 'High',

    [string[]]$ContentPattern = @(),

    [string]$ScheduleTime = '02:00',

    [ValidateSet('Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday')]
    [string[]]$ScheduleDays = @('Sunday'),

    [switch]$FixFolderAcl
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$EventSource = 'FciConnector'
$RuleName = "$JobName - classification"

# Well-known SIDs, so the check works whatever the system's language.
$Administrators = 'S-1-5-32-544'
$System = 'S-1-5-18'
$Users = 'S-1-5-32-545'
$TrustedInstaller = 'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464'
$CreatorOwner = 'S-1-3-0'

# FileSystemRights that let a principal put or change a file in the folder, generic rights included.
$WriteRights = 0x2 -bor 0x4 -bor 0x10 -bor 0x40 -bor 0x100 -bor 0x10000 -bor 0x40000 -bor 0x80000 -bor 0x10000000 -bor 0x40000000

function Get-ArgumentLine {
    <# The first non-comment line of fsrm-command-line.txt, with the template id filled in. #>
    param([string]$TemplateId, [string]$Mode)
    $file = Join-Path $PSScriptRoot 'fsrm-command-line.txt'
    $line = Get-Content -LiteralPath $file -Encoding UTF8 |
        Where-Object { $_.Trim() -and -not $_.TrimStart().StartsWith('#') } |
        Select-Object -First 1
    if (-not $line) {
        throw "$file has no argument line"
    }
    $line = $line.Trim().Replace('{TemplateID}', $TemplateId.Trim('{', '}'))
    if ($Mode -eq 'FsrmRules') {
        # FSRM's classification already decided: protect without classifying again. In front, so that -File stays
        # last and the path runs to the end of the line (docs/DEPLOYING.md).
        $line = '-Always ' + $line
    }
    return $line
}

function Get-UnexpectedWriters {
    <# Identities other than Administrators, SYSTEM, TrustedInstaller and CREATOR OWNER that may write to $Folder. #>
    param([string]$Folder)
    $allowed = @($Administrators, $System, $TrustedInstaller, $CreatorOwner)
    $acl = Get-Acl -LiteralPath $Folder
    $writers = @()
    foreach ($rule in $acl.Access) {
        if ($rule.AccessControlType -ne 'Allow') {
            continue
        }
        if (($rule.PropagationFlags -band [System.Security.AccessControl.PropagationFlags]::InheritOnly) -ne 0) {
            continue
        }
        if (([int64]$rule.FileSystemRights -band $WriteRights) -eq 0) {
            continue
        }
        try {
            $sid = $rule.IdentityReference.Translate([System.Security.Principal.SecurityIdentifier]).Value
        }
        catch {
            $sid = [string]$rule.IdentityReference
        }
        if ($allowed -notcontains $sid) {
            $writers += [string]$rule.IdentityReference
        }
    }
    return $writers | Select-Object -Unique
}

function Set-AdminOnlyAcl {
    <# Administrators and SYSTEM full control, Users read and execute, nothing inherited. #>
    param([string]$Folder)
    $acl = New-Object System.Security.AccessControl.DirectorySecurity
    $acl.SetAccessRuleProtection($true, $false)
    $inherit = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
    $none = [System.Security.AccessControl.PropagationFlags]::None
    $grants = @(
        @($Administrators, 'FullControl'),
        @($System, 'FullControl'),
        @($Users, 'ReadAndExecute')
    )
    foreach ($grant in $grants) {
        $sid = New-Object System.Security.Principal.SecurityIdentifier $grant[0]
        $rule = New-Object System.Security.AccessControl.FileSystemAccessRule($sid, $grant[1], $inherit, $none, 'Allow')
        $acl.AddAccessRule($rule)
    }
    Set-Acl -LiteralPath $Folder -AclObject $acl
}

# 1. Prerequisites.
if (-not (Get-Module -ListAvailable -Name FileServerResourceManager)) {
    throw 'The FileServerResourceManager module is missing: Install-WindowsFeature FS-Resource-Manager -IncludeManagementTools'
}
Import-Module FileServerResourceManager

if (-not $ExePath) {
    $ExePath = Join-Path (Split-Path -Parent $PSScriptRoot) 'fci-connector.exe'
}
if (-not (Test-Path -LiteralPath $ExePath -PathType Leaf)) {
    throw "fci-connector.exe not found at $ExePath; give -ExePath."
}
$ExePath = (Resolve-Path -LiteralPath $ExePath).ProviderPath
$ExeFolder = Split-Path -Parent $ExePath

foreach ($folder in $Namespace) {
    if (-not (Test-Path -LiteralPath $folder -PathType Container)) {
        throw "Namespace folder not found: $folder"
    }
}

$shown = & $ExePath templates show $TemplateId 2>&1
if ($LASTEXITCODE -ne 0) {
    throw "fci-connector cannot use template ${TemplateId} (exit $LASTEXITCODE): $shown"
}
if ($Mode -eq 'Connector') {
    $checked = & $ExePath rules check 2>&1
    if ($LASTEXITCODE -ne 0) {
        throw "fci-connector's rule files are not valid (exit $LASTEXITCODE): $checked"
    }
}

# 2. Only administrators may write where FSRM runs a command from.
$writers = @(Get-UnexpectedWriters -Folder $ExeFolder)
if ($writers.Count -gt 0) {
    if ($FixFolderAcl) {
        if ($PSCmdlet.ShouldProcess($ExeFolder, 'Set the ACL to Administrators and SYSTEM full control, Users read')) {
            Set-AdminOnlyAcl -Folder $ExeFolder
        }
    }
    else {
        throw ("FSRM will not run a command from $ExeFolder because these can write to it: $($writers -join ', '). " +
            'Run again with -FixFolderAcl, or fix the ACL yourself.')
    }
}
else {
    Write-Verbose "Only administrators can write to $ExeFolder."
}

# 3. Event source, so that fci-connector's failure events show their text.
if (-not [System.Diagnostics.EventLog]::SourceExists($EventSource)) {
    if ($PSCmdlet.ShouldProcess("Application log", "Register the event source $EventSource")) {
        New-EventLog -LogName Application -Source $EventSource
    }
}

# 4. FSRM classification, in FsrmRules mode.
$conditions = @()
if ($Mode -eq 'FsrmRules') {
    $property = Get-FsrmClassificationPropertyDefinition -Name $PropertyName -ErrorAction SilentlyContinue
    if (-not $property) {
        if ($PSCmdlet.ShouldProcess($PropertyName, 'Create the classification property')) {
            $values = @('High', 'Moderate', 'Low')
            if ($values -notcontains $PropertyValue) {
                $values = @($PropertyValue) + $values
            }
            $possible = $values | ForEach-Object { New-FsrmClassificationPropertyValue -Name $_ }
            New-FsrmClassificationPropertyDefinition -Name $PropertyName -Type SingleChoice -PossibleValue $possible `
                -Description 'Set by FSRM classification; the FCI Connector job protects files with the value that means protect.' | Out-Null
        }
    }
    elseif ($property.Type -eq 'SingleChoice' -and @($property.PossibleValue | ForEach-Object { $_.Name }) -notcontains $PropertyValue) {
        throw "The classification property $PropertyName has no value '$PropertyValue'."
    }

    if ($ContentPattern.Count -gt 0) {
        $ruleSettings = @{
            Property                 = $PropertyName
            PropertyValue            = $PropertyValue
            Namespace                = $Namespace
            ClassificationMechanism  = 'Content Classifier'
            ContentRegularExpression = $ContentPattern
            ReevaluateProperty       = 'Aggregate'
            Description              = 'Sets the property the FCI Connector job protects on.'
        }
        if (Get-FsrmClassificationRule -Name $RuleName -ErrorAction SilentlyContinue) {
            if ($PSCmdlet.ShouldProcess($RuleName, 'Update the classification rule')) {
                Set-FsrmClassificationRule -Name $RuleName @ruleSettings | Out-Null
            }
        }
        elseif ($PSCmdlet.ShouldProcess($RuleName, 'Create the classification rule')) {
            New-FsrmClassificationRule -Name $RuleName @ruleSettings | Out-Null
        }
    }

    $conditions += New-FsrmFmjCondition -Property $PropertyName -Condition Equal -Value $PropertyValue
}

# 5. The file management job.
$argumentLine = Get-ArgumentLine -TemplateId $TemplateId -Mode $Mode
$action = New-FsrmFmjAction -Type Custom -Command $ExePath -CommandParameters $argumentLine `
    -SecurityLevel LocalSystem -WorkingDirectory $ExeFolder
$schedule = New-FsrmScheduledTask -Time ([datetime]::ParseExact($ScheduleTime, 'HH:mm', $null)) -Weekly $ScheduleDays
$jobSettings = @{
    Namespace   = $Namespace
    Action      = $action
    Schedule    = $schedule
    Continuous  = $true
    ContinuousLog = $true
    ReportLog   = @('Error', 'Information')
    Description = "Protects files with fci-connector, template $TemplateId ($Mode mode)."
}
if ($conditions.Count -gt 0) {
    $jobSettings['Condition'] = $conditions
}

if (Get-FsrmFileManagementJob -Name $JobName -ErrorAction SilentlyContinue) {
    if ($PSCmdlet.ShouldProcess($JobName, 'Update the file management job')) {
        Set-FsrmFileManagementJob -Name $JobName @jobSettings | Out-Null
    }
}
elseif ($PSCmdlet.ShouldProcess($JobName, 'Create the file management job')) {
    New-FsrmFileManagementJob -Name $JobName @jobSettings | Out-Null
}

[pscustomobject]@{
    JobName     = $JobName
    Mode        = $Mode
    Namespace   = $Namespace
    Command     = $ExePath
    Arguments   = $argumentLine
    TemplateId  = $TemplateId
    Condition   = if ($Mode -eq 'FsrmRules') { "$PropertyName = $PropertyValue" } else { 'none: fci-connector classifies' }
    EventSource = $EventSource
}
