/* STIX 2.1 vocabularies and enumerations, spec section 10 (values only). */
#include "internal.h"

/* account-type-ov */
const char *const cp__stix_vocab_account_type[] = {
	"facebook", "ldap", "nis", "openid", "radius", "skype", "tacacs", "twitter", "unix",
	"windows-local", "windows-domain", NULL};

/* attack-motivation-ov */
const char *const cp__stix_vocab_attack_motivation[] = {
	"accidental", "coercion", "dominance", "ideology", "notoriety", "organizational-gain",
	"personal-gain", "personal-satisfaction", "revenge", "unpredictable", NULL};

/* attack-resource-level-ov */
const char *const cp__stix_vocab_attack_resource_level[] = {
	"individual", "club", "contest", "team", "organization", "government", NULL};

/* encryption-algorithm-enum */
const char *const cp__stix_vocab_encryption_algorithm[] = {
	"AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated", NULL};

/* extension-type-enum */
const char *const cp__stix_vocab_extension_type[] = {
	"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension", NULL};

/* grouping-context-ov */
const char *const cp__stix_vocab_grouping_context[] = {
	"suspicious-activity", "malware-analysis", "unspecified", NULL};

/* hash-algorithm-ov */
const char *const cp__stix_vocab_hash_algorithm[] = {
	"MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP", "TLSH", NULL};

/* identity-class-ov */
const char *const cp__stix_vocab_identity_class[] = {
	"individual", "group", "system", "organization", "class", "unknown", NULL};

/* implementation-language-ov */
const char *const cp__stix_vocab_implementation_language[] = {
	"applescript", "bash", "c", "c++", "c#", "go", "java", "javascript", "lua", "objective-c",
	"perl", "php", "powershell", "python", "ruby", "rust", "scala", "swift", "typescript",
	"visual-basic", "x86-32", "x86-64", NULL};

/* indicator-type-ov */
const char *const cp__stix_vocab_indicator_type[] = {
	"anomalous-activity", "anonymization", "benign", "compromised", "malicious-activity",
	"attribution", "unknown", NULL};

/* industry-sector-ov */
const char *const cp__stix_vocab_industry_sector[] = {
	"agriculture", "aerospace", "automotive", "chemical", "commercial", "communications",
	"construction", "defense", "education", "energy", "entertainment", "financial-services",
	"government", "emergency-services", "government-local", "government-national",
	"government-public-services", "government-regional", "healthcare", "hospitality-leisure",
	"infrastructure", "dams", "nuclear", "water", "insurance", "legal", "manufacturing", "mining",
	"non-profit", "pharmaceuticals", "retail", "technology", "telecommunications",
	"transportation", "utilities", NULL};

/* infrastructure-type-ov */
const char *const cp__stix_vocab_infrastructure_type[] = {
	"amplification", "anonymization", "botnet", "command-and-control", "control-system",
	"exfiltration", "firewall", "hosting-malware", "hosting-target-lists", "phishing",
	"reconnaissance", "routers-switches", "staging", "workstation", "unknown", NULL};

/* malware-capabilities-ov */
const char *const cp__stix_vocab_malware_capabilities[] = {
	"accesses-remote-machines", "anti-debugging", "anti-disassembly", "anti-emulation",
	"anti-memory-forensics", "anti-sandbox", "anti-vm", "captures-input-peripherals",
	"captures-output-peripherals", "captures-system-state-data", "cleans-traces-of-infection",
	"commits-fraud", "communicates-with-c2", "compromises-data-availability",
	"compromises-data-integrity", "compromises-system-availability", "controls-local-machine",
	"degrades-security-software", "degrades-system-updates", "determines-c2-server",
	"emails-spam", "escalates-privileges", "evades-av", "exfiltrates-data", "fingerprints-host",
	"hides-artifacts", "hides-executing-code", "infects-files", "infects-remote-machines",
	"installs-other-components", "persists-after-system-reboot", "prevents-artifact-access",
	"prevents-artifact-deletion", "probes-network-environment", "self-modifies",
	"steals-authentication-credentials", "violates-system-operational-integrity", NULL};

/* malware-result-ov */
const char *const cp__stix_vocab_malware_result[] = {
	"malicious", "suspicious", "benign", "unknown", NULL};

/* malware-type-ov */
const char *const cp__stix_vocab_malware_type[] = {
	"adware", "backdoor", "bot", "bootkit", "ddos", "downloader", "dropper", "exploit-kit",
	"keylogger", "ransomware", "remote-access-trojan", "resource-exploitation",
	"rogue-security-software", "rootkit", "screen-capture", "spyware", "trojan", "unknown",
	"virus", "webshell", "wiper", "worm", NULL};

/* network-socket-address-family-enum */
const char *const cp__stix_vocab_network_socket_address_family[] = {
	"AF_UNSPEC", "AF_INET", "AF_IPX", "AF_APPLETALK", "AF_NETBIOS", "AF_INET6", "AF_IRDA",
	"AF_BTH", NULL};

/* network-socket-type-enum */
const char *const cp__stix_vocab_network_socket_type[] = {
	"SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET", NULL};

/* opinion-enum */
const char *const cp__stix_vocab_opinion[] = {
	"strongly-disagree", "disagree", "neutral", "agree", "strongly-agree", NULL};

/* pattern-type-ov */
const char *const cp__stix_vocab_pattern_type[] = {
	"stix", "pcre", "sigma", "snort", "suricata", "yara", NULL};

/* processor-architecture-ov */
const char *const cp__stix_vocab_processor_architecture[] = {
	"alpha", "arm", "ia-64", "mips", "powerpc", "sparc", "x86", "x86-64", NULL};

/* region-ov */
const char *const cp__stix_vocab_region[] = {
	"africa", "eastern-africa", "middle-africa", "northern-africa", "southern-africa",
	"western-africa", "americas", "caribbean", "central-america", "latin-america-caribbean",
	"northern-america", "south-america", "asia", "central-asia", "eastern-asia", "southern-asia",
	"south-eastern-asia", "western-asia", "europe", "eastern-europe", "northern-europe",
	"southern-europe", "western-europe", "oceania", "antarctica", "australia-new-zealand",
	"melanesia", "micronesia", "polynesia", NULL};

/* report-type-ov */
const char *const cp__stix_vocab_report_type[] = {
	"attack-pattern", "campaign", "identity", "incident", "indicator", "intrusion-set", "malware",
	"observed-data", "threat-actor", "threat-report", "tool", "vulnerability", NULL};

/* threat-actor-type-ov */
const char *const cp__stix_vocab_threat_actor_type[] = {
	"activist", "competitor", "crime-syndicate", "criminal", "hacker", "insider-accidental",
	"insider-disgruntled", "nation-state", "private-sector", "sensationalist", "spy", "terrorist",
	"unknown", NULL};

/* threat-actor-role-ov */
const char *const cp__stix_vocab_threat_actor_role[] = {
	"agent", "director", "independent", "infrastructure-architect", "infrastructure-operator",
	"malware-author", "sponsor", NULL};

/* threat-actor-sophistication-ov */
const char *const cp__stix_vocab_threat_actor_sophistication[] = {
	"none", "minimal", "intermediate", "advanced", "expert", "innovator", "strategic", NULL};

/* tool-type-ov */
const char *const cp__stix_vocab_tool_type[] = {
	"denial-of-service", "exploitation", "information-gathering", "network-capture",
	"credential-exploitation", "remote-access", "vulnerability-scanning", "unknown", NULL};

/* windows-integrity-level-enum */
const char *const cp__stix_vocab_windows_integrity_level[] = {
	"low", "medium", "high", "system", NULL};

/* windows-pebinary-type-ov */
const char *const cp__stix_vocab_windows_pebinary_type[] = {
	"dll", "exe", "sys", NULL};

/* windows-registry-datatype-enum */
const char *const cp__stix_vocab_windows_registry_datatype[] = {
	"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD", "REG_DWORD_BIG_ENDIAN",
	"REG_DWORD_LITTLE_ENDIAN", "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST",
	"REG_FULL_RESOURCE_DESCRIPTION", "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD",
	"REG_INVALID_TYPE", NULL};

/* windows-service-start-type-enum */
const char *const cp__stix_vocab_windows_service_start_type[] = {
	"SERVICE_AUTO_START", "SERVICE_BOOT_START", "SERVICE_DEMAND_START", "SERVICE_DISABLED",
	"SERVICE_SYSTEM_ALERT", NULL};

/* windows-service-type-enum */
const char *const cp__stix_vocab_windows_service_type[] = {
	"SERVICE_KERNEL_DRIVER", "SERVICE_FILE_SYSTEM_DRIVER", "SERVICE_WIN32_OWN_PROCESS",
	"SERVICE_WIN32_SHARE_PROCESS", NULL};

/* windows-service-status-enum */
const char *const cp__stix_vocab_windows_service_status[] = {
	"SERVICE_CONTINUE_PENDING", "SERVICE_PAUSE_PENDING", "SERVICE_PAUSED", "SERVICE_RUNNING",
	"SERVICE_START_PENDING", "SERVICE_STOP_PENDING", "SERVICE_STOPPED", NULL};
