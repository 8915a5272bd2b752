; Inno Setup 6 script: the ZoomSR installer for Windows x64, made from the PyInstaller folder.
; (Not runnable on Linux. Steps, on Windows, from the repository root; docs/PACKAGING.md has more.)
;
;   py -3.11 -m venv build\venv-win-cpu
;   build\venv-win-cpu\Scripts\python -m pip install torch --index-url https://download.pytorch.org/whl/cpu
;   build\venv-win-cpu\Scripts\python -m pip install -e ".[package]"
;   build\venv-win-cpu\Scripts\python -m PyInstaller --noconfirm --clean --distpath dist --workpath build\pyinstaller packaging\zoomsr.spec
;   set QT_QPA_PLATFORM=offscreen
;   dist\ZoomSR\ZoomSR-cli.exe --selftest
;   "%ProgramFiles(x86)%\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\zoomsr.iss
;
; Output: dist\ZoomSR-<version>-windows-x64-<flavour>-setup.exe
; The CUDA flavour (ZOOMSR_FLAVOUR=cuda build, torch from a CUDA index): add /DFlavour=cuda. It
; spans the installer over 1.9 GB slices (setup.exe + setup-N.bin; keep them in one folder),
; because Setup cannot embed more than about 2 GB and GitHub release assets are capped at 2 GB.
; Paths below are relative to this file (SourceDir is the .iss file's folder by default).

#define AppName "ZoomSR"
#define AppExe "ZoomSR.exe"
#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef Flavour
  #define Flavour "cpu"
#endif
#define BundleDir "..\..\dist\ZoomSR"

[Setup]
; AppId identifies the installation for upgrades and uninstall: never change it.
AppId={{7D9D60DA-04F5-48E5-AF4D-EDDD18B4A160}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion} ({#Flavour})
AppPublisher=ZoomSR contributors
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-user install without elevation by default; the dialog offers all users (admin).
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-windows-x64-{#Flavour}-setup
SetupIconFile=zoomsr.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName} {#AppVersion}
#if FileExists(AddBackslash(SourcePath) + "..\..\LICENSE")
LicenseFile=..\..\LICENSE
#endif
WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
LZMAUseSeparateProcess=yes
LZMANumBlockThreads=4
ChangesAssociations=yes
CloseApplications=yes
#if Flavour == "cuda"
; The CUDA bundle is ~4-5 GB: slices below GitHub's 2 GB per-asset limit.
DiskSpanning=yes
DiskSliceSize=1900000000
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade must not mix the old bundle's libraries with the new ones (another torch or Qt
; version in _internal breaks imports): remove the previous bundle before copying.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
; The whole PyInstaller folder: ZoomSR.exe (GUI), ZoomSR-cli.exe (console: command line and
; --selftest) and _internal\ (Python, torch, Qt, resources).
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Registry]
; "Open with ▸ ZoomSR" for common image types (no default association is taken over).
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"",0"
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".png"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".jpg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".jpeg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".webp"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".tif"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".tiff"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".bmp"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\.png\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\.jpg\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\.jpeg\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\.webp\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\.tif\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\.tiff\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\.bmp\OpenWithList\{#AppExe}"; ValueType: none; Flags: uninsdeletekey

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#StringChange(AppName, '&', '&&')}}"; Flags: nowait postinstall skipifsilent

; Settings (%LOCALAPPDATA%\ZoomSR\ZoomSR) and imported weights
; (%LOCALAPPDATA%\ZoomSR\ZoomSR\checkpoints) belong to the user and stay on uninstall.
