<#
.SYNOPSIS
Installs the fci-connector licensing service (`fci-connector serve`) as a Windows service running under its own
virtual account, with its key files readable only by that account and the administrators. Every run converges on
the settings given; supports -WhatIf.

.DESCRIPTION
Run it as an administrator on the licensing server, from the fci-scripts folder of an installed copy of
fci-connector (fci-connector.exe in the folder above), once the service's config file is written (docs/SERVICE.md:
listen address, TLS certificate and key, template store, issuer keys, signing key, store, sign-in). It:

  1. checks that fci-connector.exe and the config file exist, and reads from the config the private key files it
     names (tls_key, signing_key and the path of every [[issuer_keys]] entry; relative paths are relative to the
     config file);
  2. registers (or updates) the service -ServiceName with the command line
       "<fci-connector.exe>" serve "<config>" --windows-service
     started automatically, running as the virtual account NT SERVICE\<ServiceName> (no password to manage; the
     Service Control Manager grants it the right to log on as a service);
  3. gives that account read access to the config folder and what is in it, and write access to it (the SQLite store
     and its -wal/-shm files, and the service log <config name>.log are written beside the config);
  4. sets the DACL of every key file to: SYSTEM and Administrators full control, the service account read; nothing
     inherited. `serve` refuses to start with a key file anyone else can read (exit 6, naming the file);
  5. sets the recovery policy: restart after 5 s, 5 s, then 60 s, counters reset after a day, and also when the
     service stops with an error exit code (sc.exe failure, sc.exe failureflag);
  6. registers the event source FciConnector in the Application log (where start failures are reported);
  7. starts the service (restarts it when it was running) and waits until it runs.

A passphrase-protected issuer key (passphrase_env in the config) needs its environment variable in the service's
environment: set it with -PassphraseEnvironment (stored in the service's registry key, readable by administrators
and SYSTEM only).

What the service logs (JSON lines) goes to <config name>.log beside the config file; a start that fails is also
reported in the Application log (source FciConnector) and `sc.exe query <ServiceName>` shows its exit code as the
service-specific exit code (docs/EXIT-CODES.md).

.PARAMETER ConfigPath
The service's config file (TOML; docs/SERVICE.md), e.g. C:\ProgramData\FciConnector\licensing\licensing.toml.

.PARAMETER ExePath
The path of fci-connector.exe. Default: fci-connector.exe in the folder above this script.

.PARAMETER ServiceName
The name of the Windows service, and of its virtual account NT SERVICE\<ServiceName>. Default: FciLicensing.

.PARAMETER PassphraseEnvironment
Environment variables for the service, NAME=VALUE each (the passphrase_env variables of the config's issuer keys).

.PARAMETER NoStart
Register and configure the service, but do not start it.

.EXAMPLE
.\Install-FciLicensingService.ps1 -ConfigPath 'C:\ProgramData\FciConnector\licensing\licensing.toml' -WhatIf

Shows what it would change, changing nothing.

.EXAMPLE
.\Install-FciLicensingService.ps1 -ConfigPath 'C:\ProgramData\FciConnector\licensing\licensing.toml'

.EXAMPLE
.\Install-FciLicensingService.ps1 -ConfigPath 'D:\Licensing\licensing.toml' -PassphraseEnvironment 'FCI_KEY_PASSPHRASE=correct horse'
#>
#Requires -Version 5.1
#Requires -RunAsAdministrator
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    [Parameter(Mandatory = $true)]
    [string]$ConfigPath,

    [string]$ExePath = '',

    [ValidatePattern('^[A-Za-z0-9_.-]+$')]
    [string]$ServiceName = 'FciLicensing',

    [string[]]$PassphraseEnvironment = @(),

    [switch]$NoStart
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$EventSource = 'FciConnector'
# Well-known SIDs, so the ACLs are right whatever the system's language.
$Administrators = New-Object System.Security.Principal.SecurityIdentifier('S-1-5-32-544')
$System = New-Object System.Security.Principal.SecurityIdentifier('S-1-5-18')

function Get-KeyFile {
    <# The private key files a service config names: tls_key, signing_key and every issuer key's path, resolved
       against the config's folder. A small reader for these three keys, not a TOML parser: each must be a basic
       string on a line of its own, as docs/SERVICE.md writes them. #>
    param([string]$Config)
    $folder = Split-Path -Parent $Config
    $found = @()
    foreach ($line in (Get-Content -LiteralPath $Config -Encoding UTF8)) {
        if ($line -match '^\s*(tls_key|signing_key|path)\s*=\s*"([^"]+)"\s*(#.*)?$') {
            $value = $Matches[2].Replace('\\', '\')
            if (-not [System.IO.Path]::IsPathRooted($value)) {
                $value = Join-Path $folder $value
            }
            $found += [System.IO.Path]::GetFullPath($value)
        }
    }
    return $found
}

function Set-KeyFileAcl {
    <# SYSTEM and Administrators full control, the service account read, nothing inherited. #>
    param([string]$Path, [System.Security.Principal.NTAccount]$Account)
    $acl = New-Object System.Security.AccessControl.FileSecurity
    $acl.SetAccessRuleProtection($true, $false)
    $acl.SetOwner($Administrators)
    foreach ($sid in @($System, $Administrators)) {
        $rule = New-Object System.Security.AccessControl.FileSystemAccessRule($sid, 'FullControl', 'Allow')
        $acl.AddAccessRule($rule)
    }
    $read = New-Object System.Security.AccessControl.FileSystemAccessRule($Account, 'Read', 'Allow')
    $acl.AddAccessRule($read)
    Set-Acl -LiteralPath $Path -AclObject $acl
}

function Grant-FolderAccess {
    <# The service account may read and write in the config folder (store, log); inherited by what is in it. #>
    param([string]$Path, [System.Security.Principal.NTAccount]$Account)
    $acl = Get-Acl -LiteralPath $Path
    $inherit = [System.Security.AccessControl.InheritanceFlags]'ContainerInherit, ObjectInherit'
    $propagate = [System.Security.AccessControl.PropagationFlags]::None
    $rule = New-Object System.Security.AccessControl.FileSystemAccessRule($Account, 'Modify', $inherit, $propagate, 'Allow')
    $acl.AddAccessRule($rule)
    Set-Acl -LiteralPath $Path -AclObject $acl
}

function Invoke-Sc {
    <# sc.exe with these arguments; throws with its output when it fails. #>
    param([string[]]$Arguments)
    $output = & sc.exe @Arguments 2>&1 | ForEach-Object { [string]$_ }
    if ($LASTEXITCODE -ne 0) {
        throw "sc.exe $($Arguments -join ' ') failed (exit $LASTEXITCODE): $($output -join ' ')"
    }
}

# --- 1. checks, changing nothing ------------------------------------------------------------------------------------
if (-not $ExePath) {
    $ExePath = Join-Path (Split-Path -Parent $PSScriptRoot) 'fci-connector.exe'
}
if (-not (Test-Path -LiteralPath $ExePath -PathType Leaf)) {
    throw "fci-connector.exe not found at $ExePath (give -ExePath)"
}
$ExePath = (Resolve-Path -LiteralPath $ExePath).ProviderPath
if (-not (Test-Path -LiteralPath $ConfigPath -PathType Leaf)) {
    throw "the service config $ConfigPath does not exist (docs/SERVICE.md shows one)"
}
$ConfigPath = (Resolve-Path -LiteralPath $ConfigPath).ProviderPath
$ConfigFolder = Split-Path -Parent $ConfigPath
$KeyFiles = @(Get-KeyFile -Config $ConfigPath)
if ($KeyFiles.Count -eq 0) {
    throw "$ConfigPath names no key file (tls_key, signing_key, [[issuer_keys]] path): is it the service's config?"
}
foreach ($key in $KeyFiles) {
    if (-not (Test-Path -LiteralPath $key -PathType Leaf)) {
        throw "$ConfigPath names the key file $key, which does not exist"
    }
}
foreach ($pair in $PassphraseEnvironment) {
    if ($pair -notmatch '^[A-Za-z_][A-Za-z0-9_]*=') {
        throw "-PassphraseEnvironment: '$($pair.Split('=')[0])' is not NAME=VALUE"
    }
}
$Account = New-Object System.Security.Principal.NTAccount("NT SERVICE\$ServiceName")
$BinaryPath = '"{0}" serve "{1}" --windows-service' -f $ExePath, $ConfigPath

# --- 2. the service -------------------------------------------------------------------------------------------------
$existing = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
if ($existing) {
    if ($existing.Status -ne 'Stopped' -and $PSCmdlet.ShouldProcess($ServiceName, 'Stop the service to update it')) {
        Stop-Service -Name $ServiceName
    }
    if ($PSCmdlet.ShouldProcess($ServiceName, "Set the command line to $BinaryPath")) {
        Invoke-Sc -Arguments @('config', $ServiceName, 'binPath=', $BinaryPath, 'start=', 'auto')
    }
}
elseif ($PSCmdlet.ShouldProcess($ServiceName, "Create the service: $BinaryPath")) {
    $null = New-Service -Name $ServiceName -BinaryPathName $BinaryPath -DisplayName 'FCI Connector licensing service' `
        -Description 'Releases content keys of protected files to the people their templates grant (fci-connector serve).' `
        -StartupType Automatic
}
if ($PSCmdlet.ShouldProcess($ServiceName, "Run as $($Account.Value)")) {
    # New-Service cannot name a virtual account (it has no password); sc.exe can.
    Invoke-Sc -Arguments @('config', $ServiceName, 'obj=', $Account.Value)
}
if ($PassphraseEnvironment.Count -gt 0 -and $PSCmdlet.ShouldProcess($ServiceName, 'Set the service environment')) {
    $key = "HKLM:\SYSTEM\CurrentControlSet\Services\$ServiceName"
    Set-ItemProperty -LiteralPath $key -Name 'Environment' -Value ([string[]]$PassphraseEnvironment) -Type MultiString
}

# --- 3. and 4. access ---------------------------------------------------------------------------------------------
if ($PSCmdlet.ShouldProcess($ConfigFolder, "Let $($Account.Value) read and write in it")) {
    Grant-FolderAccess -Path $ConfigFolder -Account $Account
}
foreach ($key in $KeyFiles) {
    if ($PSCmdlet.ShouldProcess($key, "Readable only by $($Account.Value), SYSTEM and Administrators")) {
        Set-KeyFileAcl -Path $key -Account $Account
    }
}

# --- 5. recovery --------------------------------------------------------------------------------------------------
if ($PSCmdlet.ShouldProcess($ServiceName, 'Restart on failure (5 s, 5 s, 60 s; reset after a day)')) {
    Invoke-Sc -Arguments @('failure', $ServiceName, 'reset=', '86400', 'actions=', 'restart/5000/restart/5000/restart/60000')
    # Also when the service stops with an error exit code, not only when the process crashes.
    Invoke-Sc -Arguments @('failureflag', $ServiceName, '1')
}

# --- 6. event source ----------------------------------------------------------------------------------------------
# The .NET call works in Windows PowerShell and PowerShell 7 alike (New-EventLog is not in PowerShell 7).
if (-not [System.Diagnostics.EventLog]::SourceExists($EventSource)) {
    if ($PSCmdlet.ShouldProcess($EventSource, 'Register the event source in the Application log')) {
        [System.Diagnostics.EventLog]::CreateEventSource($EventSource, 'Application')
    }
}

# --- 7. start -----------------------------------------------------------------------------------------------------
if (-not $NoStart -and $PSCmdlet.ShouldProcess($ServiceName, 'Start the service')) {
    Start-Service -Name $ServiceName
    $service = Get-Service -Name $ServiceName
    try {
        $service.WaitForStatus('Running', [TimeSpan]::FromSeconds(90))
    }
    catch {
        $log = [System.IO.Path]::ChangeExtension($ConfigPath, '.log')
        throw "$ServiceName did not reach Running: see $log and the Application log (source $EventSource); sc.exe query $ServiceName shows its exit code"
    }
    Write-Output "$ServiceName is running as $($Account.Value): $BinaryPath"
}
