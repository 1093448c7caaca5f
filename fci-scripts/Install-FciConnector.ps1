<#
.SYNOPSIS
Registers fci-connector with File Server Resource Manager (FSRM): a file management job that protects the files of
the folders given, and what it needs. Every run converges on the settings given; supports -WhatIf.

.DESCRIPTION
Run it as an administrator on the file server, from the fci-scripts folder of an installed copy of fci-connector
(fci-connector.exe, templates\ and classification-rules\ in the folder above; see docs/DEPLOYING.md). It first
checks everything, changing nothing:

  1. that the FileServerResourceManager module is there, that fci-connector.exe runs, that the template exists in
     its template store, (in Connector mode) that the rule files are valid, that every namespace is a folder on a
     local fixed volume, and (in FsrmRules mode) that an existing classification property can hold -PropertyValue;
  2. that only Administrators, SYSTEM and TrustedInstaller can change the executable, its folder or anything in
     it, or the folders above it: FSRM requires the executable of a custom action to be read-only for
     non-administrators, in a location that is read-only for them. The owners count (an owner can always change
     the permissions), and so do inherit-only entries (they apply to the files inside).

Then it changes what differs from the settings given:

  3. with -FixFolderAcl, sets the folder's ACL (owner Administrators; Administrators and SYSTEM full control, Users
     read and execute; inheritance off) and resets everything in it to that ACL (explicit entries removed);
     without it, a problem found in step 2 stops the run before anything is changed;
  4. registers the event source FciConnector in the Application log, where fci-connector reports failures;
  5. in FsrmRules mode, creates the classification property the job's condition tests (an ordered list: High,
     Moderate, Low), replaces the FSRM content classification rule "<JobName> - classification" (with
     -ContentPattern) and turns on continuous classification of new and changed files (Set-FsrmClassification,
     with a schedule if there is none yet); in Connector mode, or without -ContentPattern, removes that rule if an
     earlier run created it;
  6. replaces the file management job: an existing job of that name is removed and created again with exactly the
     settings given (Set-FsrmFileManagementJob would keep a condition of an earlier FsrmRules run).

The job's argument line is read from fsrm-command-line.txt beside this script, with {TemplateID} replaced (and
-Always put before -OwnerMail in FsrmRules mode).

Modes:
  Connector  (default) fci-connector classifies each file with its own rule set and protects what the policy says.
             The job runs on every file of the namespace; files that need no protection are left alone (exit 0).
  FsrmRules  FSRM's classification decides: the job runs only on files whose property -PropertyName has the value
             -PropertyValue, and fci-connector protects them without classifying (-Always), as Microsoft's
             RMS-Protect-FCI.ps1 did.

.PARAMETER Namespace
The folders the job scans, on the server's local volumes, e.g. D:\Shares\Finance (not a UNC path or a mapped
drive).

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
When the scheduled run starts, HH:mm in the server's local time. Default: 02:00.

.PARAMETER ScheduleDays
The days of the scheduled run. Default: Sunday. Between runs, -Continuous handles new and changed files.

.PARAMETER FixFolderAcl
Set the ACL of the executable's folder, and reset what is in it, when others than Administrators, SYSTEM and
TrustedInstaller can change them.

.EXAMPLE
.\Install-FciConnector.ps1 -Namespace 'D:\Shares\Finance', 'D:\Shares\HR' -TemplateId e6ee2481-26b9-45e5-b34a-f744eacd53b0 -WhatIf

Shows what it would change, changing nothing.

.EXAMPLE
.\Install-FciConnector.ps1 -Namespace 'D:\Shares\Finance' -TemplateId e6ee2481-26b9-45e5-b34a-f744eacd53b0 -FixFolderAcl

.EXAMPLE
.\Install-FciConnector.ps1 -Namespace 'D:\Shares\HR' -TemplateId e6ee2481-26b9-45e5-b34a-f744eacd53b0 -Mode FsrmRules -PropertyName Confidentiality -PropertyValue High -ContentPattern '\b\d{3}-\d{2}-\d{4}\b'

FSRM classifies (files with something like a US social security number get Confidentiality = High) and the job
protects the files it marked.
#>
#Requires -Version 5.1
#Requires -RunAsAdministrator
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

    [ValidatePattern('^([01][0-9]|2[0-3]):[0-5][0-9]$')]
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
$Trusted = @($Administrators, $System, $TrustedInstaller, $CreatorOwner)

# FileSystemRights that let a principal put or change a file, or change who may: WriteData/CreateFiles,
# AppendData/CreateDirectories, WriteExtendedAttributes, DeleteSubdirectoriesAndFiles, WriteAttributes, Delete,
# ChangePermissions, TakeOwnership, GenericAll, GenericWrite.
$WriteRights = 0x2 -bor 0x4 -bor 0x10 -bor 0x40 -bor 0x100 -bor 0x10000 -bor 0x40000 -bor 0x80000 -bor 0x10000000 -bor 0x40000000
# On a folder above: the rights that let a principal move the folder away and put another in its place, or give
# itself those rights (DeleteSubdirectoriesAndFiles, Delete, ChangePermissions, TakeOwnership, GenericAll).
$ReplaceRights = 0x40 -bor 0x10000 -bor 0x40000 -bor 0x80000 -bor 0x10000000

function Get-OptionalProperty {
    <# A property of a CIM object, or $null when it has none (Set-StrictMode forbids reading a missing one). #>
    param($Object, [string]$Name)
    if ($null -eq $Object) { return $null }
    $p = $Object.PSObject.Properties[$Name]
    if ($p) { return $p.Value }
    return $null
}

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
        # FSRM's classification already decided: protect without classifying again. After the template id: before
        # -File, so that the path still runs to the end of the line (docs/DEPLOYING.md), and not first, because
        # fci-connector recognises Microsoft's form by its first switch (-TemplateID, -OwnerMail or -File).
        $withAlways = $line.Replace(' -OwnerMail ', ' -Always -OwnerMail ')
        if ($withAlways -eq $line) {
            throw "$file: the argument line has no -OwnerMail to put -Always in front of."
        }
        $line = $withAlways
    }
    return $line
}

function Invoke-Fci {
    <# Runs fci-connector.exe; returns its exit code and its output and error text. #>
    param([string[]]$Arguments)
    # Windows PowerShell 5.1 turns a native program's stderr line into a terminating NativeCommandError under
    # 'Stop' when it is redirected (2>&1); here it is text to show.
    $ErrorActionPreference = 'Continue'
    # Windows PowerShell decodes a native program's output with [Console]::OutputEncoding, the OEM code page by
    # default; fci-connector writes UTF-8.
    $previous = [Console]::OutputEncoding
    try {
        [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding($false)
        $output = & $script:ExePath @Arguments 2>&1 | ForEach-Object { [string]$_ }
        $code = $LASTEXITCODE
    }
    finally {
        [Console]::OutputEncoding = $previous
    }
    return [pscustomobject]@{ Code = $code; Output = ($output -join [Environment]::NewLine) }
}

function Get-SidOf {
    param($Identity)
    try {
        return $Identity.Translate([System.Security.Principal.SecurityIdentifier]).Value
    }
    catch {
        return [string]$Identity
    }
}

function Get-UnsafeEntries {
    <# Who other than Administrators, SYSTEM, TrustedInstaller (and CREATOR OWNER) owns $Path or holds one of
       $Rights on it. -AppliesToItself leaves out inherit-only entries (for the folders above: what they pass down is
       checked on the folder below, where it is inherited). #>
    param([string]$Path, [int64]$Rights, [switch]$AppliesToItself)
    $acl = Get-Acl -LiteralPath $Path
    $found = @()
    $owner = $acl.GetOwner([System.Security.Principal.SecurityIdentifier]).Value
    if ($Trusted -notcontains $owner) {
        $found += "$Path is owned by $(Get-SidOf (New-Object System.Security.Principal.SecurityIdentifier $owner)) ($owner)"
    }
    foreach ($rule in $acl.Access) {
        if ($rule.AccessControlType -ne 'Allow') {
            continue
        }
        if ($AppliesToItself -and ($rule.PropagationFlags -band [System.Security.AccessControl.PropagationFlags]::InheritOnly) -ne 0) {
            continue
        }
        if (([int64]$rule.FileSystemRights -band $Rights) -eq 0) {
            continue
        }
        if ($Trusted -notcontains (Get-SidOf $rule.IdentityReference)) {
            $found += "$($rule.IdentityReference) may change $Path ($($rule.FileSystemRights))"
        }
    }
    return $found
}

function Set-AdminOnlyAcl {
    <# Owner Administrators; Administrators and SYSTEM full control, Users read and execute, nothing inherited; and
       everything in the folder reset to inherit that, with no explicit entries of its own. #>
    param([string]$Folder)
    $adminSid = New-Object System.Security.Principal.SecurityIdentifier $Administrators
    $acl = New-Object System.Security.AccessControl.DirectorySecurity
    $acl.SetOwner($adminSid)
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
    foreach ($item in @(Get-ChildItem -LiteralPath $Folder -Recurse -Force)) {
        $itemAcl = Get-Acl -LiteralPath $item.FullName
        foreach ($rule in @($itemAcl.Access | Where-Object { -not $_.IsInherited })) {
            [void]$itemAcl.RemoveAccessRuleSpecific($rule)
        }
        $itemAcl.SetAccessRuleProtection($false, $false)
        $itemAcl.SetOwner($adminSid)
        Set-Acl -LiteralPath $item.FullName -AclObject $itemAcl
    }
}

function Resolve-LocalFolder {
    <# The absolute path of a namespace folder on a local fixed volume, as FSRM expects it. #>
    param([string]$Path)
    if (-not (Test-Path -LiteralPath $Path -PathType Container)) {
        throw "Namespace folder not found: $Path"
    }
    $item = Get-Item -LiteralPath $Path -Force
    if ($item.PSProvider.Name -ne 'FileSystem') {
        throw "Namespace $Path is not a folder of the file system."
    }
    $full = $item.FullName
    if ($full -notmatch '^[A-Za-z]:\\') {
        throw "Namespace $Path is ${full}: FSRM scans folders on the server's own volumes; give it as D:\... (not a UNC path)."
    }
    $drive = New-Object System.IO.DriveInfo($full.Substring(0, 1))
    if ($drive.DriveType -ne [System.IO.DriveType]::Fixed) {
        throw "Namespace $Path is on a $($drive.DriveType) drive: FSRM scans folders on the server's local fixed volumes."
    }
    if ($full.Length -gt 3) {
        $full = $full.TrimEnd('\')
    }
    return $full
}

function Get-PropertyTypeName {
    <# A classification property's type by name; the CIM object may carry the number (MS-FSRM
       FsrmPropertyDefinitionType: 1 OrderedList, 2 MultiChoice, 3 SingleChoice, 4 String, 5 MultiString, 6 Integer,
       7 YesNo, 8 DateTime). #>
    param($Type)
    $names = @{ 1 = 'OrderedList'; 2 = 'MultiChoice'; 3 = 'SingleChoice'; 4 = 'String'; 5 = 'MultiString'; 6 = 'Integer'; 7 = 'YesNo'; 8 = 'DateTime' }
    $number = 0
    if ([int]::TryParse([string]$Type, [ref]$number) -and $names.ContainsKey($number)) {
        return $names[$number]
    }
    return [string]$Type
}

# --- 1. Checks; nothing is changed before all of them pass. ------------------------------------------------------
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
if ($ExePath -notmatch '^[A-Za-z]:\\' -or $ExePath.Length -ge 260) {
    throw "FSRM runs a command from a local path shorter than 260 characters: $ExePath"
}
$ExeFolder = Split-Path -Parent $ExePath

$Namespace = @($Namespace | ForEach-Object { Resolve-LocalFolder -Path $_ })

# New-FsrmScheduledTask documents -Time as UTC: the local time asked for, converted.
$localTime = [datetime]::ParseExact($ScheduleTime, 'HH:mm', [System.Globalization.CultureInfo]::InvariantCulture)
$scheduleTime = [datetime]::SpecifyKind($localTime, [System.DateTimeKind]::Local).ToUniversalTime()

$shown = Invoke-Fci -Arguments @('templates', 'show', $TemplateId)
if ($shown.Code -ne 0) {
    throw "fci-connector cannot use template ${TemplateId} (exit $($shown.Code)): $($shown.Output)"
}
if ($Mode -eq 'Connector') {
    $checked = Invoke-Fci -Arguments @('rules', 'check')
    if ($checked.Code -ne 0) {
        throw "fci-connector's rule files are not valid (exit $($checked.Code)): $($checked.Output)"
    }
}

# 2. Only administrators may change what FSRM runs, or where it runs it from.
$problems = @()
$problems += Get-UnsafeEntries -Path $ExeFolder -Rights $WriteRights
foreach ($item in @(Get-ChildItem -LiteralPath $ExeFolder -Recurse -Force)) {
    # The executable, and what it reads: templates, rules, configuration.
    $problems += Get-UnsafeEntries -Path $item.FullName -Rights $WriteRights
}
$aboveProblems = @()
$parent = Split-Path -Parent $ExeFolder
while ($parent) {
    $aboveProblems += Get-UnsafeEntries -Path $parent -Rights $ReplaceRights -AppliesToItself
    $parent = Split-Path -Parent $parent
}
if ($aboveProblems.Count -gt 0 -or ($problems.Count -gt 0 -and -not $FixFolderAcl)) {
    $problems += $aboveProblems
    $fix = if ($aboveProblems.Count -gt 0) { 'Fix the folders above yourself (-FixFolderAcl changes only its own folder), or install elsewhere.' } else { 'Run again with -FixFolderAcl, or fix the ACL yourself.' }
    throw ("FSRM runs a custom action only from a location non-administrators cannot change. Nothing was changed. " +
        "Found: $($problems -join '; '). $fix")
}

$argumentLine = Get-ArgumentLine -TemplateId $TemplateId -Mode $Mode
if ($argumentLine.Length -gt 10240) {
    throw 'The argument line is longer than the 10 KB FSRM accepts.'
}

$propertyType = 'OrderedList'
$property = $null
if ($Mode -eq 'FsrmRules') {
    $property = Get-FsrmClassificationPropertyDefinition -Name $PropertyName -ErrorAction SilentlyContinue
    if ($property) {
        $propertyType = Get-PropertyTypeName (Get-OptionalProperty $property 'Type')
        $possible = @(Get-OptionalProperty $property 'PossibleValue' | ForEach-Object { Get-OptionalProperty $_ 'Name' })
        if (@('OrderedList', 'SingleChoice', 'MultiChoice') -contains $propertyType -and $possible -notcontains $PropertyValue) {
            throw "The classification property $PropertyName has no value '$PropertyValue' (it has: $($possible -join ', ')). Nothing was changed."
        }
    }
}

# --- Changes. ----------------------------------------------------------------------------------------------------
# 3. The folder's ACL.
if ($problems.Count -gt 0) {
    if ($PSCmdlet.ShouldProcess($ExeFolder, 'Set the owner to Administrators, the ACL to Administrators and SYSTEM full control, Users read, and reset everything in it')) {
        Set-AdminOnlyAcl -Folder $ExeFolder
    }
    elseif (-not $WhatIfPreference) {
        throw "The ACL of $ExeFolder was not changed, so FSRM would not run the command: nothing was registered."
    }
}
else {
    Write-Verbose "Only administrators can change $ExePath and its folder."
}

# 4. Event source, so that fci-connector's failure events show their text. The .NET call works in Windows
# PowerShell and PowerShell 7 alike (New-EventLog is not in PowerShell 7).
if (-not [System.Diagnostics.EventLog]::SourceExists($EventSource)) {
    if ($PSCmdlet.ShouldProcess('Application log', "Register the event source $EventSource")) {
        [System.Diagnostics.EventLog]::CreateEventSource($EventSource, 'Application')
    }
}

# 5. FSRM classification.
$conditions = @()
$existingRule = Get-FsrmClassificationRule -Name $RuleName -ErrorAction SilentlyContinue
if ($existingRule) {
    # Removed and, with -ContentPattern in FsrmRules mode, created again: a rule of an earlier run must not survive.
    if ($PSCmdlet.ShouldProcess($RuleName, 'Remove the classification rule of an earlier run')) {
        Remove-FsrmClassificationRule -Name $RuleName -Confirm:$false
    }
}
if ($Mode -eq 'FsrmRules') {
    if (-not $property) {
        if ($PSCmdlet.ShouldProcess($PropertyName, 'Create the classification property (ordered list: High, Moderate, Low)')) {
            # An ordered list, highest first: FSRM can aggregate its values (the highest wins), so a file another rule
            # marked Low still becomes High. It cannot aggregate different single-choice values.
            $values = @('High', 'Moderate', 'Low')
            if ($values -notcontains $PropertyValue) {
                $values = @($PropertyValue) + $values
            }
            $possibleValues = @($values | ForEach-Object { New-FsrmClassificationPropertyValue -Name $_ -WhatIf:$false })
            New-FsrmClassificationPropertyDefinition -Name $PropertyName -Type OrderedList -PossibleValue $possibleValues `
                -Description 'Set by FSRM classification; the FCI Connector job protects files with the value that means protect.' | Out-Null
        }
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
        if ($propertyType -ne 'OrderedList') {
            # Only an ordered list aggregates values of different rules; for any other type this rule's value
            # replaces an earlier one, so that a file marked otherwise before can still get the value that protects.
            $ruleSettings['ReevaluateProperty'] = 'Overwrite'
        }
        if ($PSCmdlet.ShouldProcess($RuleName, "Create the classification rule ($($ruleSettings['ReevaluateProperty']))")) {
            New-FsrmClassificationRule -Name $RuleName @ruleSettings | Out-Null
        }
    }

    # Without classification running, new files never get the property the condition tests.
    $classification = Get-FsrmClassification
    $classificationSchedule = Get-OptionalProperty $classification 'Schedule'
    $hasSchedule = $null -ne $classificationSchedule -and [string](Get-OptionalProperty $classificationSchedule 'Time')
    if (-not (Get-OptionalProperty $classification 'Continuous') -or -not $hasSchedule) {
        if ($PSCmdlet.ShouldProcess('FSRM classification', 'Classify new and changed files continuously (and on a schedule if there is none)')) {
            $classificationSettings = @{ Continuous = $true; ContinuousLog = $true }
            if (-not $hasSchedule) {
                $classificationSettings['Schedule'] = New-FsrmScheduledTask -Time $scheduleTime -Weekly $ScheduleDays -WhatIf:$false
            }
            Set-FsrmClassification @classificationSettings
        }
    }

    $conditions += New-FsrmFmjCondition -Property $PropertyName -Condition Equal -Value $PropertyValue -WhatIf:$false
}

# 6. The file management job, with exactly these settings.
$action = New-FsrmFmjAction -Type Custom -Command $ExePath -CommandParameters $argumentLine `
    -SecurityLevel LocalSystem -WorkingDirectory $ExeFolder -WhatIf:$false
$schedule = New-FsrmScheduledTask -Time $scheduleTime -Weekly $ScheduleDays -WhatIf:$false
$jobSettings = @{
    Namespace     = $Namespace
    Action        = $action
    Schedule      = $schedule
    Continuous    = $true
    ContinuousLog = $true
    ReportLog     = @('Error', 'Information')
    Description   = "Protects files with fci-connector, template $TemplateId ($Mode mode)."
}
if ($conditions.Count -gt 0) {
    $jobSettings['Condition'] = $conditions
}

if (Get-FsrmFileManagementJob -Name $JobName -ErrorAction SilentlyContinue) {
    if ($PSCmdlet.ShouldProcess($JobName, 'Replace the file management job (remove it, create it with these settings)')) {
        Remove-FsrmFileManagementJob -Name $JobName -Confirm:$false
        New-FsrmFileManagementJob -Name $JobName @jobSettings | Out-Null
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
    Schedule    = "$($ScheduleDays -join ', ') at $ScheduleTime (server time; $($scheduleTime.ToString('HH:mm')) UTC)"
    EventSource = $EventSource
}
